"""Resolving a discrepancy: each outcome is a service that writes its event."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_label
from payments.models import PaymentAttempt
from payments.services.bank_transfer import bank_transfer_receive

from ...choices import DiscrepancyKind, DiscrepancyStatus, LineStatus, MatchStatus
from ...models import Discrepancy, Match, StatementLine


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
    from ..matching import line_reference, record_manual_match

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


EXCESS_KINDS = (DiscrepancyKind.OVERPAYMENT, DiscrepancyKind.DUPLICATE_PAYMENT)


def discrepancy_refund_excess(*, discrepancy: Discrepancy, by, note: str) -> Discrepancy:
    """Give the customer back what an overpayment brought on top, or a second
    payment of a charge: the amount the statement line credited to their prepaid
    balance, refunded through the payment notice the line quoted (for a bank
    transfer, a refund awaiting the manual transfer staff confirm; the refund is
    booked then). Refused when the balance no longer holds it — the customer's
    later charges spent it — which leaves waiving or resolving with a note."""
    from payments.services.refunds import prepaid_refund_request, refund_send

    with transaction.atomic():
        locked = _open_for_update(discrepancy)
        if locked.kind not in EXCESS_KINDS or locked.line_id is None:
            raise BusinessError(
                {
                    "discrepancy": [
                        _("Only an overpayment or a second payment can be refunded from here.")
                    ]
                }
            )
        if not note.strip():
            raise BusinessError({"note": [_("Say why the money is refunded.")]})
        match = (
            Match.objects.filter(line_id=locked.line_id, attempt__isnull=False)
            .filter(status=MatchStatus.CONFIRMED)
            .order_by("id")
            .first()
        )
        if match is None or locked.amount is None:
            raise BusinessError(
                {"discrepancy": [_("The line is matched to no payment notice to refund through.")]}
            )
        refund = prepaid_refund_request(
            attempt=match.attempt_id, amount=locked.amount, reason=note, requested_by=by
        )
        locked.refund = refund
        locked.save(update_fields=["refund", "updated_at"])
        closed = _close(
            locked,
            status=DiscrepancyStatus.RESOLVED,
            by=by,
            note=note,
            action="refunded",
        )
    refund_send(refund=refund)
    return closed
