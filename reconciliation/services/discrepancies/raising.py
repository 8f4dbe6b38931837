"""Raising discrepancies: by matching, and by the periodic look for missing payments."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_record_bulk
from feemgmt.core.money import Money, money_label
from feemgmt.core.sql import insert_rows
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from ...choices import AccountKind, DiscrepancyKind, DiscrepancyStatus
from ...models import BankAccount, Discrepancy, StatementLine

# Inside a statement import the discrepancies matching raises are gathered and
# inserted together when matching ends, and recorded in one bulk event per file
# (imports.py); anywhere else each one is inserted and recorded on its own.
_IN_IMPORT: ContextVar[list | None] = ContextVar("reconciliation_in_import", default=None)

# The columns a discrepancy raised by matching is written with.
RAISED_COLUMNS = (
    "kind",
    "account_id",
    "line_id",
    "charge_id",
    "amount",
    "amount_currency",
    "message",
    "status",
    "resolution",
    "created_at",
    "updated_at",
)


@contextmanager
def recorded_by_the_import():
    """Gather the discrepancies raised inside the block; insert them set-based at
    its end (a statement of 100,000 lines may raise thousands)."""
    gathered: list[tuple] = []
    token = _IN_IMPORT.set(gathered)
    try:
        yield
    finally:
        _IN_IMPORT.reset(token)
    if gathered:
        # a line has at most one discrepancy of a kind: a second one is the same one
        insert_rows(Discrepancy, RAISED_COLUMNS, gathered, ignore_conflicts=True)


def discrepancy_open(
    *,
    kind: str,
    account_id: int,
    message: str,
    line: StatementLine | None = None,
    charge_id: int | None = None,
    amount: Money | None = None,
) -> Discrepancy | None:
    """Record a discrepancy, or return the one already recorded about the same thing.

    Inside :func:`recorded_by_the_import` it is only gathered (and None returned)."""
    gathered = _IN_IMPORT.get()
    if gathered is not None:
        now = timezone.now()
        gathered.append(
            (
                str(kind),
                account_id,
                line.pk if line is not None else None,
                charge_id,
                amount.amount if amount is not None else None,
                amount.currency.code if amount is not None else settings.DEFAULT_CURRENCY,
                message,
                DiscrepancyStatus.OPEN.value,
                "",
                now,
                now,
            )
        )
        return None
    try:
        with transaction.atomic():
            discrepancy = Discrepancy.objects.create(
                kind=kind,
                account_id=account_id,
                line=line,
                charge_id=charge_id,
                amount=amount,
                message=message,
            )
    except IntegrityError:
        if line is not None:
            return Discrepancy.objects.get(kind=kind, line=line)
        return Discrepancy.objects.get(
            kind=kind, charge_id=charge_id, line__isnull=True, status=DiscrepancyStatus.OPEN
        )
    audit_record(
        action="discrepancy.raised",
        obj=discrepancy,
        changes={
            "after": {
                "kind": kind,
                "line": line.pk if line is not None else None,
                "charge": charge_id,
                "amount": str(amount.amount) if amount is not None else None,
                "message": message,
            }
        },
    )
    return discrepancy


def discrepancies_close_for_line(*, line: StatementLine, kind: str, by) -> int:
    """A line was explained after all (a clerk confirmed a match)."""
    return Discrepancy.objects.filter(line=line, kind=kind, status=DiscrepancyStatus.OPEN).update(
        status=DiscrepancyStatus.RESOLVED,
        resolved_by=by,
        resolved_at=timezone.now(),
        updated_at=timezone.now(),
    )


def discrepancies_find_missing(*, on: dt.date) -> int:
    """Payments the books expect on a statement that no statement showed:

    - a bank-transfer notice still unpaid ``RECONCILIATION_TRANSFER_WAIT_DAYS`` after
      its charge fell due (the customer says they paid; the bank does not);
    - a gateway success booked on or before the last day its account's bills cover,
      that no bill line confirmed.

    One query per kind (and gateway) finds them; they are inserted together and
    recorded in one ``discrepancies.found_missing`` event, whatever their number.
    Raising is idempotent: a charge gets this discrepancy once (the database keeps
    one open per kind and charge). Returns how many were raised.
    """
    wait = dt.timedelta(days=settings.RECONCILIATION_TRANSFER_WAIT_DAYS)
    transfer_account = BankAccount.objects.filter(
        kind=AccountKind.BANK, receives_transfers=True, active=True
    )
    accounts = {account.currency: account for account in transfer_account}
    found: list[tuple[int, int, Money, str]] = []  # account, charge, amount, message
    late = (
        PaymentAttempt.objects.filter(
            method="bank_transfer",
            status=AttemptStatus.PENDING,
            charge__due_date__lt=on - wait,
            amount_currency__in=list(accounts),
        )
        .exclude(charge__discrepancies__kind=DiscrepancyKind.MISSING_PAYMENT)
        .select_related("charge")
        .order_by("id")
    )
    for attempt in late:
        found.append(
            (
                accounts[attempt.amount.currency.code].pk,
                attempt.charge_id,
                attempt.amount,
                _("No statement shows the transfer %(ref)s of %(amount)s, due %(due)s.")
                % {
                    "ref": attempt.provider_reference,
                    "amount": money_label(attempt.amount),
                    "due": attempt.charge.due_date.isoformat(),
                },
            )
        )
    for gateway in BankAccount.objects.exclude(kind=AccountKind.BANK).filter(active=True):
        covered = StatementLine.objects.filter(account=gateway).aggregate(last=Max("booked_on"))[
            "last"
        ]
        if covered is None:
            continue
        unconfirmed = (
            PaymentAttempt.objects.filter(
                method=gateway.payment_method,
                status=AttemptStatus.SUCCEEDED,
                amount_currency=gateway.currency,
                decided_at__date__lte=covered,
                statement_matches__isnull=True,
            )
            .exclude(charge__discrepancies__kind=DiscrepancyKind.MISSING_PAYMENT)
            .only("id", "charge_id", "amount", "amount_currency", "idempotency_key")
            .order_by("id")
        )
        for attempt in unconfirmed:
            found.append(
                (
                    gateway.pk,
                    attempt.charge_id,
                    attempt.amount,
                    _(
                        "%(key)s was paid (%(amount)s) but is not in %(account)s's bills up "
                        "to %(date)s."
                    )
                    % {
                        "key": attempt.idempotency_key,
                        "amount": money_label(attempt.amount),
                        "account": gateway.code,
                        "date": covered.isoformat(),
                    },
                )
            )
    return _raise_missing(found, on=on)


MISSING_FIELDS = ("kind", "account_id", "charge_id", "amount", "amount_currency", "message")


def _raise_missing(found: list[tuple[int, int, Money, str]], *, on: dt.date) -> int:
    if not found:
        return 0
    now = timezone.now()
    inserted = insert_rows(
        Discrepancy,
        (*MISSING_FIELDS, "status", "resolution", "created_at", "updated_at"),
        [
            (
                DiscrepancyKind.MISSING_PAYMENT.value,
                account_id,
                charge_id,
                amount.amount,
                amount.currency.code,
                message,
                DiscrepancyStatus.OPEN.value,
                "",
                now,
                now,
            )
            for account_id, charge_id, amount, message in found
        ],
        returning=("id",),
        ignore_conflicts=True,
    )
    ids = [pk for (pk,) in inserted]
    if ids:
        audit_record_bulk(
            action="discrepancies.found_missing",
            model=Discrepancy,
            ids=ids,
            fields=MISSING_FIELDS,
            object_type="reconciliation.discrepancy",
            extra={"on": on.isoformat(), "raised": len(ids)},
        )
    return len(ids)
