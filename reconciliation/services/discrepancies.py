"""Discrepancies: what a statement and the books disagree on, until someone decides.

Raised by matching (and, for missing payments, by the periodic check); each one is
unique per kind and line, so matching a line again never doubles it.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_label
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt
from payments.services.bank_transfer import bank_transfer_receive

from ..choices import AccountKind, DiscrepancyKind, DiscrepancyStatus, LineStatus
from ..models import BankAccount, Discrepancy, StatementLine

# Inside a statement import the discrepancies matching raises are recorded together,
# in one bulk event per file (imports.py); anywhere else each one is its own event.
_IN_IMPORT: ContextVar[bool] = ContextVar("reconciliation_in_import", default=False)


@contextmanager
def recorded_by_the_import():
    token = _IN_IMPORT.set(True)
    try:
        yield
    finally:
        _IN_IMPORT.reset(token)


def discrepancy_open(
    *,
    kind: str,
    account_id: int,
    message: str,
    line: StatementLine | None = None,
    charge_id: int | None = None,
    amount: Money | None = None,
) -> Discrepancy:
    """Record a discrepancy, or return the one already recorded about the same thing."""
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
    if not _IN_IMPORT.get():
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

    One set-based query per kind; raising is idempotent (one open discrepancy per
    kind and charge). Returns how many were raised.
    """
    wait = dt.timedelta(days=settings.RECONCILIATION_TRANSFER_WAIT_DAYS)
    raised = 0
    transfer_account = BankAccount.objects.filter(
        kind=AccountKind.BANK, receives_transfers=True, active=True
    )
    accounts = {account.currency: account for account in transfer_account}
    late = (
        PaymentAttempt.objects.filter(
            method="bank_transfer",
            status=AttemptStatus.PENDING,
            charge__due_date__lt=on - wait,
            amount_currency__in=list(accounts),
        )
        .exclude(charge__discrepancies__kind=DiscrepancyKind.MISSING_PAYMENT)
        .select_related("charge")
    )
    for attempt in late:
        discrepancy_open(
            kind=DiscrepancyKind.MISSING_PAYMENT,
            account_id=accounts[attempt.amount.currency.code].pk,
            charge_id=attempt.charge_id,
            amount=attempt.amount,
            message=_("No statement shows the transfer %(ref)s of %(amount)s, due %(due)s.")
            % {
                "ref": attempt.provider_reference,
                "amount": money_label(attempt.amount),
                "due": attempt.charge.due_date.isoformat(),
            },
        )
        raised += 1
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
        )
        for attempt in unconfirmed:
            discrepancy_open(
                kind=DiscrepancyKind.MISSING_PAYMENT,
                account_id=gateway.pk,
                charge_id=attempt.charge_id,
                amount=attempt.amount,
                message=_(
                    "%(key)s was paid (%(amount)s) but is not in %(account)s's bills up to "
                    "%(date)s."
                )
                % {
                    "key": attempt.idempotency_key,
                    "amount": money_label(attempt.amount),
                    "account": gateway.code,
                    "date": covered.isoformat(),
                },
            )
            raised += 1
    return raised


# --- Resolving -----------------------------------------------------------------------------


def _open_for_update(discrepancy: Discrepancy) -> Discrepancy:
    locked = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    if locked.status != DiscrepancyStatus.OPEN:
        raise BusinessError({"discrepancy": [_("This discrepancy is no longer open.")]})
    return locked


def _close(discrepancy: Discrepancy, *, status: str, by, note: str, action: str) -> Discrepancy:
    if not note.strip():
        raise BusinessError({"note": [_("Say how the discrepancy was resolved.")]})
    discrepancy.status = status
    discrepancy.resolution = note.strip()
    discrepancy.resolved_by = by
    discrepancy.resolved_at = timezone.now()
    discrepancy.save(
        update_fields=["status", "resolution", "resolved_by", "resolved_at", "updated_at"]
    )
    audit_record(
        action=f"discrepancy.{action}",
        obj=discrepancy,
        changes={
            "status": [DiscrepancyStatus.OPEN, status],
            "resolution": ["", discrepancy.resolution],
        },
    )
    return discrepancy


def discrepancy_resolve(*, discrepancy: Discrepancy, by, note: str) -> Discrepancy:
    """Someone dealt with it outside the books' own flows (and says how)."""
    with transaction.atomic():
        return _close(
            _open_for_update(discrepancy),
            status=DiscrepancyStatus.RESOLVED,
            by=by,
            note=note,
            action="resolved",
        )


def discrepancy_waive(*, discrepancy: Discrepancy, by, note: str) -> Discrepancy:
    """Accepted as it is (a difference too small to chase, a known bank quirk)."""
    with transaction.atomic():
        return _close(
            _open_for_update(discrepancy),
            status=DiscrepancyStatus.WAIVED,
            by=by,
            note=note,
            action="waived",
        )


def discrepancy_mark_not_ours(*, discrepancy: Discrepancy, by, note: str) -> Discrepancy:
    """The line is not a customer's payment (interest, an internal transfer, a bank's
    own entry): it leaves the matching, and the run's difference shows it stays
    outside the fee books."""
    with transaction.atomic():
        locked = _open_for_update(discrepancy)
        if locked.line_id is None:
            raise BusinessError(
                {"discrepancy": [_("Only a statement line can be marked not ours.")]}
            )
        line = StatementLine.objects.select_for_update().get(pk=locked.line_id)
        if line.status == LineStatus.MATCHED:
            raise BusinessError({"discrepancy": [_("The line is matched to a charge.")]})
        line.status = LineStatus.IGNORED
        line.save(update_fields=["status"])
        return _close(
            locked, status=DiscrepancyStatus.RESOLVED, by=by, note=note, action="not_ours"
        )


def discrepancy_assign(
    *, discrepancy: Discrepancy, charge_id: int, by, note: str = ""
) -> Discrepancy:
    """An unmatched line pays this charge after all (the customer named the wrong
    reference, or none): booked as if it had quoted the charge's payment notice."""
    from .matching import line_reference, record_manual_match

    with transaction.atomic():
        locked = _open_for_update(discrepancy)
        if locked.kind != DiscrepancyKind.UNMATCHED_LINE or locked.line_id is None:
            raise BusinessError(
                {
                    "discrepancy": [
                        _("Only an unmatched statement line can be assigned to a charge.")
                    ]
                }
            )
        line = (
            StatementLine.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=locked.line_id)
        )
        notice = (
            PaymentAttempt.objects.filter(charge_id=charge_id, method="bank_transfer")
            .exclude(provider_reference=None)
            .order_by("-number")
            .first()
        )
        if notice is None:
            raise BusinessError(
                {"charge": [_("The charge has no bank-transfer payment notice to pay.")]}
            )
        receipt = bank_transfer_receive(
            reference=notice.provider_reference,
            amount=line.amount,
            booked_on=line.booked_on,
            line_reference=line_reference(line),
        )
        record_manual_match(line=line, attempt=notice, receipt=receipt, by=by)
        return _close(
            locked,
            status=DiscrepancyStatus.RESOLVED,
            by=by,
            note=note or _("Assigned to charge %(charge)s.") % {"charge": charge_id},
            action="assigned",
        )


def discrepancy_write_off_request(*, discrepancy: Discrepancy, by, note: str) -> Discrepancy:
    """Ask to write off what a partial payment left owing, when it is small (a bank
    fee taken off the transfer, a rounding): at most
    ``RECONCILIATION_WRITE_OFF_TOLERANCE`` in the charge's currency. Someone else
    approves it (:func:`discrepancy_write_off_approve`)."""
    from payments.services.staff import write_off_request

    with transaction.atomic():
        locked = _open_for_update(discrepancy)
        if locked.kind != DiscrepancyKind.PARTIAL_PAYMENT or locked.charge_id is None:
            raise BusinessError(
                {"discrepancy": [_("Only what a partial payment left owing can be written off.")]}
            )
        if locked.write_off_id is not None:
            raise BusinessError({"discrepancy": [_("A write-off was already asked for.")]})
        request = write_off_request(charge=locked.charge_id, requested_by=by, reason=note)
        limit = Money(settings.RECONCILIATION_WRITE_OFF_TOLERANCE, request.amount.currency)
        if request.amount > limit:
            raise BusinessError(
                {
                    "discrepancy": [
                        _(
                            "%(left)s is still owed, more than the %(limit)s that may be "
                            "written off from a statement; collect it or write it off on "
                            "the charge."
                        )
                        % {"left": money_label(request.amount), "limit": money_label(limit)}
                    ]
                }
            )
        locked.write_off = request
        locked.save(update_fields=["write_off", "updated_at"])
        audit_record(
            action="discrepancy.write_off_requested",
            obj=locked,
            changes={"write_off": [None, request.pk]},
        )
        return locked


def discrepancy_write_off_approve(*, discrepancy: Discrepancy, by, note: str = "") -> Discrepancy:
    """A second person approves the write-off; the charge is written off and the
    discrepancy resolved (the payments service refuses the requester)."""
    from payments.services.staff import write_off_approve

    with transaction.atomic():
        locked = _open_for_update(discrepancy)
        if locked.write_off_id is None:
            raise BusinessError({"discrepancy": [_("No write-off was asked for.")]})
        request = write_off_approve(request=locked.write_off_id, approved_by=by, note=note)
        return _close(
            locked,
            status=DiscrepancyStatus.RESOLVED,
            by=by,
            note=note or request.reason,
            action="written_off",
        )
