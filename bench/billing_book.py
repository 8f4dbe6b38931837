"""The billing benchmark's book: loading it, skipping its history, statistics, and
the counts read back to check a step."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import load_demo_book  # noqa: E402


def charge_count() -> int:
    from billing.models import Charge

    return Charge.objects.count()


def duplicate_charges() -> int:
    """(fee, period start) pairs charged more than once; one-off fees group on NULL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT fee_id, period_start FROM billing_charge "
            "GROUP BY fee_id, period_start HAVING count(*) > 1) AS twice"
        )
        return cursor.fetchone()[0]


def skip_history(today: dt.date) -> dict:
    """Move every bookmark before ``today`` to the fee's first due date from today on,
    as if another system had billed the book's past: a million contracts can then be
    measured without first catching up on ten million old charges. One-off fees due
    before today are left billed (no bookmark), and the customers billed before have
    their receivable accounts, as that billing would have left them. Batches of
    10,000 fees, each one UPDATE."""
    from django.db import transaction

    from billing import calendar
    from billing.services.run import FEE_COLUMNS
    from contracts.choices import FeeKind
    from contracts.models import Fee
    from feemgmt.core.sql import update_by_id
    from ledger.choices import AccountPurpose
    from ledger.postings.charges import accounts_for_customers

    started = time.perf_counter()
    past = Fee.objects.filter(next_due_date__lt=today).order_by("id")
    moved, batch, accounts = 0, {}, set()
    for row in past.values_list(*FEE_COLUMNS, named=True).iterator(chunk_size=10_000):
        batch[row.id] = None
        accounts.add((row.contract__customer_id, row.amount_currency))
        if row.kind == FeeKind.RECURRING:
            batch[row.id] = calendar.next_due_after(
                cycle=row.cycle,
                alignment=row.contract__alignment,
                service_start=row.contract__service_start,
                service_end=row.contract__service_end,
                after=today - dt.timedelta(days=1),
            )
        if len(batch) == 10_000:
            with transaction.atomic():
                moved += update_by_id(Fee, "next_due_date", batch)
                accounts_for_customers(AccountPurpose.RECEIVABLE, accounts)
            batch, accounts = {}, set()
    with transaction.atomic():
        moved += update_by_id(Fee, "next_due_date", batch)
        accounts_for_customers(AccountPurpose.RECEIVABLE, accounts)
    return {"fees": moved, "seconds": time.perf_counter() - started}


def analyze() -> None:
    """Planner statistics, as autovacuum would have gathered them after the catch-up
    (this machine runs PostgreSQL with autovacuum off): without them a chunk's
    account lookup is planned for a table of a few rows.

    Not before the catch-up: the ledger accounts are still empty then, and a table
    analyzed empty gets its foreign-key checks planned as sequential scans, kept
    while the catch-up fills it (every journal line then scanned every account)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def last_ids() -> tuple[int, int]:
    """The highest charge and journal entry ids: what a step writes comes after them."""
    from billing.models import Charge
    from ledger.models import JournalEntry

    def last(model) -> int:
        return model.objects.order_by("-id").values_list("id", flat=True).first() or 0

    return last(Charge), last(JournalEntry)


def load_demo_data(contracts: int, seed: int, load_day: dt.date, *, services: bool) -> dict:
    """Create the contracts with the clock at ``load_day``: set-based (``demo_data
    --set-based``, the same rows) or through the services one by one."""
    from contracts.models import Contract, Fee

    seconds = load_demo_book(contracts, seed, load_day, set_based=not services)
    return {
        "step": "load (services)" if services else "load (set-based)",
        "on": load_day,
        "contracts": Contract.objects.count(),
        "fees": Fee.objects.count(),
        "charges": charge_count(),
        "chunks": None,
        "seconds": seconds,
        "queries": None,
        "chunk_fees": 0,
    }
