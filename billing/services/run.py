"""The billing run: create every charge that has fallen due, exactly once.

The run walks fees whose ``next_due_date`` is on or before the billing date, in
chunks of consecutive ids. For each chunk it locks the fee rows, computes the due
charges in Python with the pure calendar, inserts them in a few multi-row
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statements and moves the fees'
bookmarks forward with one ``UPDATE`` (each fee to its own next date). The unique
constraints on Charge make a repeated or concurrent run harmless; the row locks only
keep two runs from doing the same work twice.

Each chunk records one ``billing.chunk`` audit event, as the last step of its
transaction, covering the charges it created (see :data:`BULK_FIELDS`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import actor_scope, current_context
from audit.services import audit_record_bulk
from contracts.choices import FeeKind
from contracts.models import Contract, Fee
from contracts.services import contracts_advance_status
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_from_db, quantize
from feemgmt.core.sql import insert_rows, update_by_id
from ledger.postings import BilledCharge, post_charges

from .. import calendar
from ..amounts import amount_changes
from ..choices import ChargeStatus
from ..events import charges_billed
from ..models import Charge

logger = logging.getLogger(__name__)

# Who a billing run is recorded as when no user or request started it (the nightly
# task, the command).
BILLING_ACTOR = "system:billing_run"

# The fields of a new charge that a billing chunk's audit event digests: the ones
# that never change afterwards. ``amount``, ``period_end`` and ``prorated`` are not
# among them: a termination re-prices the charge of the period it cuts (recorded as
# ``charge.repriced``, with the old and new values), and a digest over them would
# report every such termination as tampering. The chunk's totals per currency, as
# billed, are kept in the event beside the digest.
BULK_FIELDS = ("contract_id", "fee_id", "kind", "period_start", "due_date", "amount_currency")


FEE_COLUMNS = (
    "id",
    "contract_id",
    "contract__customer_id",
    "kind",
    "cycle",
    "treatment",
    "amount",
    "amount_currency",
    "next_due_date",
    "contract__service_start",
    "contract__service_end",
    "contract__signed_on",
    "contract__alignment",
    "contract__proration",
)


@dataclass
class BillingTotals:
    """What a run (or a chunk of one) did. Totals are per currency, never mixed."""

    fees_seen: int = 0
    contract_ids: set[int] = field(default_factory=set)
    charges_created: int = 0
    amounts: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def contracts_seen(self) -> int:
        return len(self.contract_ids)

    def add(self, other: BillingTotals) -> None:
        self.fees_seen += other.fees_seen
        self.contract_ids |= other.contract_ids
        self.charges_created += other.charges_created
        for currency, amount in other.amounts.items():
            self.amounts[currency] += amount

    def totals(self) -> dict[str, Money]:
        return {code: quantize(amount, code) for code, amount in sorted(self.amounts.items())}


@dataclass
class BillingRunResult(BillingTotals):
    on: dt.date | None = None
    chunks: int = 0
    activated: int = 0
    ended: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Row:
    fee_id: int
    contract_id: int
    kind: str
    spec: calendar.ChargeSpec
    customer_id: int | None = None
    treatment: str = ""


def due_for_fee(
    row, on: dt.date, changes: tuple[calendar.AmountChange, ...] = ()
) -> tuple[list[calendar.ChargeSpec], dt.date | None]:
    """The charges of one fee due on or before ``on`` that the bookmark says are
    still missing, and the fee's next bookmark. ``changes`` are the fee's consented
    amendments (billing.amounts.amount_changes)."""
    fee_amount = Money(row.amount, row.amount_currency)
    start, end = row.contract__service_start, row.contract__service_end
    if row.kind == FeeKind.RECURRING:
        specs = calendar.recurring_charges(
            cycle=row.cycle,
            alignment=row.contract__alignment,
            proration=row.contract__proration,
            amount=fee_amount,
            service_start=start,
            service_end=end,
            through=on,
            since=row.next_due_date,
            changes=changes,
        )
        following = calendar.next_due_after(
            cycle=row.cycle,
            alignment=row.contract__alignment,
            service_start=start,
            service_end=end,
            after=on,
        )
        return specs, following
    due = row.contract__signed_on if row.kind == FeeKind.SIGNING else start
    if row.kind == FeeKind.SERVICE_START and end is not None and end < start:
        return [], None  # terminated before service began: nothing to start
    spec = calendar.ChargeSpec(
        period_start=None, period_end=None, due_date=due, amount=fee_amount, prorated=False
    )
    return [spec], None


def _insert_charges(rows: list[_Row]) -> list[tuple[int, _Row, Money]]:
    """Insert charges, skipping any that exist; return (charge id, row, amount) of
    those actually inserted."""
    now = timezone.now()
    returned = insert_rows(
        Charge,
        (
            "contract_id",
            "fee_id",
            "kind",
            "period_start",
            "period_end",
            "due_date",
            "amount",
            "amount_currency",
            "prorated",
            "status",
            "next_attempt_on",
            "created_at",
            "updated_at",
        ),
        (
            (
                row.contract_id,
                row.fee_id,
                row.kind,
                row.spec.period_start,
                row.spec.period_end,
                row.spec.due_date,
                row.spec.amount.amount,
                row.spec.amount.currency.code,
                row.spec.prorated,
                ChargeStatus.PENDING.value,
                row.spec.due_date,
                now,
                now,
            )
            for row in rows
        ),
        returning=("id", "fee_id", "period_start", "amount", "amount_currency"),
        ignore_conflicts=True,
    )
    by_key = {(row.fee_id, row.spec.period_start): row for row in rows}
    inserted = []
    for charge_id, fee_id, period_start, amount, currency in returned:
        if isinstance(period_start, str):  # SQLite hands dates back as text
            period_start = dt.date.fromisoformat(period_start)
        inserted.append((charge_id, by_key[fee_id, period_start], money_from_db(amount, currency)))
    return inserted


@contextmanager
def billing_actor() -> Iterator[None]:
    """Record what follows as the billing run's, unless a user or a request is
    already acting (a run started from the admin stays the staff member's)."""
    context = current_context()
    if context.actor or context.request is not None:
        yield
        return
    with actor_scope(BILLING_ACTOR):
        yield


def _bill_fee_rows(fee_rows: Iterable[tuple], on: dt.date, *, scope: dict) -> BillingTotals:
    """Bill the locked fee rows: insert, book, move bookmarks, then record the one
    audit event of what was created (``scope`` says which fees were looked at)."""
    totals = BillingTotals()
    rows: list[_Row] = []
    bookmarks: list[tuple[int, dt.date | None]] = []
    fee_rows = list(fee_rows)
    # One query for the chunk: the amendments that change what a period charges.
    changes = amount_changes(fee.id for fee in fee_rows if fee.kind == FeeKind.RECURRING)
    for fee in fee_rows:
        totals.fees_seen += 1
        totals.contract_ids.add(fee.contract_id)
        specs, following = due_for_fee(fee, on, changes.get(fee.id, ()))
        rows += [
            _Row(fee.id, fee.contract_id, fee.kind, spec, fee.contract__customer_id, fee.treatment)
            for spec in specs
        ]
        bookmarks.append((fee.id, following))
    inserted = _insert_charges(rows)
    for _charge_id, _row, amount in inserted:
        totals.charges_created += 1
        totals.amounts[amount.currency.code] += amount.amount
    # Each new charge is booked as receivable in the same transaction.
    post_charges(
        [
            BilledCharge(
                charge_id=charge_id,
                customer_id=row.customer_id,
                amount=amount,
                on=row.spec.due_date,
                treatment=row.treatment,
            )
            for charge_id, row, amount in inserted
        ]
    )
    update_by_id(Fee, "next_due_date", dict(bookmarks))
    if inserted:
        charge_ids = [charge_id for charge_id, _row, _amount in inserted]
        charges_billed.send(sender=Charge, charge_ids=charge_ids, on=on)
        # Last: the audit chain's lock is held from here until the chunk commits.
        audit_record_bulk(
            action="billing.chunk",
            model=Charge,
            ids=charge_ids,
            fields=BULK_FIELDS,
            extra={
                **scope,
                "on": on,
                "charges": totals.charges_created,
                "totals": {code: str(money.amount) for code, money in totals.totals().items()},
            },
        )
    return totals


def _lock_and_read_fees(fees: QuerySet[Fee], on: dt.date) -> list:
    """Lock the due fee rows in id order, then read them with their contract.

    Two statements on purpose: a statement that waited on a row lock sees the
    locked row's new version but the joined contract as it was when the statement
    began. Reading after the lock is granted sees a termination that committed
    meanwhile, so no period after the new last day is billed.
    """
    ids = list(
        fees.select_for_update()
        .filter(next_due_date__lte=on)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not ids:
        return []
    return list(
        Fee.objects.filter(id__any=ids, next_due_date__lte=on)
        .order_by("id")
        .values_list(*FEE_COLUMNS, named=True)
    )


def billing_run_chunk(*, on: dt.date, first_id: int, last_id: int) -> BillingTotals:
    """Bill the fees with ids in [first_id, last_id] that are due on ``on``.

    The fee rows are locked in id order, so a concurrent run waits for this chunk
    and then, re-reading the bookmarks, finds nothing left to do.
    """
    with transaction.atomic():
        fees = Fee.objects.filter(id__gte=first_id, id__lte=last_id)
        return _bill_fee_rows(
            _lock_and_read_fees(fees, on), on, scope={"fees": [first_id, last_id]}
        )


def billing_run_contract(*, contract: Contract, on: dt.date) -> BillingTotals:
    """Bill one contract right away (after signing, a backdated contract catches up
    and the signing fee is charged the same day, not at the next nightly run)."""
    with transaction.atomic():
        return _bill_fee_rows(
            _lock_and_read_fees(Fee.objects.filter(contract=contract), on),
            on,
            scope={"contract": contract.pk},
        )


def billing_chunks(*, on: dt.date, chunk_size: int | None = None) -> Iterator[tuple[int, int]]:
    """Consecutive (first_id, last_id) ranges covering the fees due on ``on``,
    each holding at most ``chunk_size`` of them."""
    chunk_size = chunk_size or settings.BILLING_CHUNK_SIZE
    last = 0
    while True:
        ids = list(
            Fee.objects.filter(next_due_date__lte=on, id__gt=last)
            .order_by("id")
            .values_list("id", flat=True)[:chunk_size]
        )
        if not ids:
            return
        yield ids[0], ids[-1]
        last = ids[-1]


def billing_due_fee_count(*, on: dt.date) -> int:
    return Fee.objects.filter(next_due_date__lte=on).count()


def check_billing_date(on: dt.date) -> None:
    """Charges are created when they fall due, never ahead: a date after today (in
    the billing time zone) would bill customers early and move contracts to active
    or ended before their day. Every way of starting a run (the command, the task,
    the admin page) is held to this."""
    today = timezone.localdate()
    if on > today:
        raise BusinessError(
            {
                "on": [
                    _(
                        "Billing cannot run for %(date)s, after today (%(today)s): charges "
                        "are created when they fall due."
                    )
                    % {"date": on.isoformat(), "today": today.isoformat()}
                ]
            },
            code="future_billing_date",
        )


def billing_run(
    *,
    on: dt.date,
    chunk_size: int | None = None,
    progress: Callable[[int, int, BillingTotals], None] | None = None,
) -> BillingRunResult:
    """Create every charge due on or before ``on`` that does not exist yet.

    Catches up after downtime on its own (a fee's bookmark stays at its oldest
    missing charge), and may be repeated or run in two processes at once. Refused
    (BusinessError) for a date after today.
    ``progress(done_fees, total_fees, totals)`` is called after each chunk.
    """
    check_billing_date(on)
    started = time.monotonic()
    result = BillingRunResult(on=on)
    status = contracts_advance_status(on=on)
    result.activated, result.ended = status["activated"], status["ended"]
    total = billing_due_fee_count(on=on) if progress else 0
    for first_id, last_id in billing_chunks(on=on, chunk_size=chunk_size):
        result.add(billing_run_chunk(on=on, first_id=first_id, last_id=last_id))
        result.chunks += 1
        if progress:
            progress(result.fees_seen, max(total, result.fees_seen), result)
    result.seconds = time.monotonic() - started
    logger.info(
        "billing run for %s: %d contracts, %d charges created in %.1fs",
        on,
        result.contracts_seen,
        result.charges_created,
        result.seconds,
    )
    return result
