"""The billing run: create every charge that has fallen due, exactly once.

The run walks fees whose ``next_due_date`` is on or before the billing date, in
chunks of consecutive ids. For each chunk it locks the fee rows, computes the due
charges in Python with the pure calendar, inserts them in a few multi-row
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statements and moves each fee's
bookmark forward with one ``UPDATE``. The unique constraints on Charge make a
repeated or concurrent run harmless; the row locks only keep two runs from doing
the same work twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contracts.choices import FeeKind
from contracts.models import Contract, Fee
from contracts.services import contracts_advance_status
from feemgmt.core.money import Money, money_from_db, quantize
from feemgmt.core.sql import insert_rows
from ledger.postings import (
    BilledCharge,
    post_charge_cancellation,
    post_charge_change,
    post_charges,
)

from . import calendar
from .choices import ChargeStatus
from .events import charges_billed
from .models import Charge

logger = logging.getLogger(__name__)


_FEE_COLUMNS = (
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


def _due_for_fee(row, on: dt.date) -> tuple[list[calendar.ChargeSpec], dt.date | None]:
    """The charges of one fee due on or before ``on`` that the bookmark says are
    still missing, and the fee's next bookmark."""
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


def _bill_fee_rows(fee_rows: Iterable[tuple], on: dt.date) -> BillingTotals:
    totals = BillingTotals()
    rows: list[_Row] = []
    bookmarks: list[tuple[int, dt.date | None]] = []
    for fee in fee_rows:
        totals.fees_seen += 1
        totals.contract_ids.add(fee.contract_id)
        specs, following = _due_for_fee(fee, on)
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
    # One UPDATE per distinct next due date: a chunk's fees mostly share a few (the
    # 1st of next month; anniversaries spread over at most a year of days).
    by_date: dict[dt.date | None, list[int]] = defaultdict(list)
    for fee_id, following in bookmarks:
        by_date[following].append(fee_id)
    for following, fee_ids in by_date.items():
        Fee.objects.filter(id__in=fee_ids).update(next_due_date=following)
    if inserted:
        charges_billed.send(
            sender=Charge, charge_ids=[charge_id for charge_id, _row, _amount in inserted], on=on
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
        Fee.objects.filter(id__in=ids, next_due_date__lte=on)
        .order_by("id")
        .values_list(*_FEE_COLUMNS, named=True)
    )


def billing_run_chunk(*, on: dt.date, first_id: int, last_id: int) -> BillingTotals:
    """Bill the fees with ids in [first_id, last_id] that are due on ``on``.

    The fee rows are locked in id order, so a concurrent run waits for this chunk
    and then, re-reading the bookmarks, finds nothing left to do.
    """
    with transaction.atomic():
        fees = Fee.objects.filter(id__gte=first_id, id__lte=last_id)
        return _bill_fee_rows(_lock_and_read_fees(fees, on), on)


def billing_run_contract(*, contract: Contract, on: dt.date) -> BillingTotals:
    """Bill one contract right away (after signing, a backdated contract catches up
    and the signing fee is charged the same day, not at the next nightly run)."""
    with transaction.atomic():
        return _bill_fee_rows(_lock_and_read_fees(Fee.objects.filter(contract=contract), on), on)


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


def billing_run(
    *,
    on: dt.date,
    chunk_size: int | None = None,
    progress: Callable[[int, int, BillingTotals], None] | None = None,
) -> BillingRunResult:
    """Create every charge due on or before ``on`` that does not exist yet.

    Catches up after downtime on its own (a fee's bookmark stays at its oldest
    missing charge), and may be repeated or run in two processes at once.
    ``progress(done_fees, total_fees, totals)`` is called after each chunk.
    """
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


@transaction.atomic
def charges_cut_at_termination(*, contract: Contract) -> dict[str, int]:
    """Bring a terminated contract's charges in line with its new last day.

    Pending charges for periods that start after the end are cancelled; the pending
    charge of the period the end date cuts is shortened and re-priced by the same
    calendar the billing run uses; a service-start fee not yet begun is cancelled.
    Charges already collected are left alone (refunds belong to collection).
    """
    end = contract.service_end
    today = timezone.localdate()
    cancelled = recut = 0
    fees = {fee.id: fee for fee in Fee.objects.select_for_update().filter(contract=contract)}
    charges = Charge.objects.select_for_update().filter(
        contract=contract, status=ChargeStatus.PENDING
    )
    for charge in charges:
        fee = fees[charge.fee_id]
        never_started = charge.kind == FeeKind.SERVICE_START and end < contract.service_start
        after_end = charge.period_start is not None and charge.period_start > end
        if never_started or after_end:
            charge.status, charge.next_attempt_on = ChargeStatus.CANCELLED, None
            charge.save(update_fields=["status", "next_attempt_on", "updated_at"])
            post_charge_cancellation(charge_id=charge.pk, on=today)
            cancelled += 1
        elif charge.period_end is not None and charge.period_end > end:
            (spec,) = calendar.recurring_charges(
                cycle=fee.cycle,
                alignment=contract.alignment,
                proration=contract.proration,
                amount=fee.amount,
                service_start=contract.service_start,
                service_end=end,
                through=charge.period_start,
                since=charge.period_start,
            )
            charge.period_end, charge.amount, charge.prorated = (
                spec.period_end,
                spec.amount,
                spec.prorated,
            )
            charge.save(update_fields=["period_end", "amount", "prorated", "updated_at"])
            post_charge_change(
                customer_id=contract.customer_id,
                charge_id=charge.pk,
                amount=spec.amount,
                on=today,
                treatment=fee.treatment,
            )
            recut += 1
    for fee in fees.values():
        if fee.next_due_date and fee.next_due_date > end and fee.kind != FeeKind.SIGNING:
            fee.next_due_date = None
            fee.save(update_fields=["next_due_date"])
    return {"cancelled": cancelled, "recut": recut}
