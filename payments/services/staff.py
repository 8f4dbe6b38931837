"""What finance staff do to a charge collection could not settle: retry it now,
cancel it, or write it off (asked by one user, approved by another).

Each action locks the charge row first, so it is ordered against collection
recording answers and against notifications. None of them acts while an attempt's
outcome is unknown: the gateway may have taken the money, so it is asked first.

The charge's status changes go through billing's services (``charge.cancelled``,
``charge.written_off``), a withdrawn attempt through ``attempt_cancel``; a write-off
request records ``write_off.requested``, ``write_off.approved`` or
``write_off.rejected``. Each event is among the last writes of its transaction.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import AlertKind
from alerts.services import alerts_resolve
from audit.services import audit_record
from billing.models import Charge
from billing.services import charges as charge_states
from contracts.choices import SigningTreatment
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from ledger.choices import EntryKind
from ledger.models import JournalEntry
from ledger.postings import (
    charge_subject,
    post_charge_cancellation,
    post_reversal,
    post_write_off,
)
from payments.choices import ApprovalStatus, AttemptStatus
from payments.models import WriteOffRequest

from .approvals import decision_check, decision_record
from .attempts import attempt_cancel
from .collection import COLLECTABLE, outstanding

APPROVE_PERMISSION = "payments.approve_writeoffrequest"


def _locked(charge: Charge | int) -> Charge:
    charge_id = charge.pk if isinstance(charge, Charge) else charge
    return (
        Charge.objects.select_for_update(of=("self",))
        .select_related("contract__customer", "fee")
        .get(pk=charge_id)
    )


def _collectable(charge: Charge) -> None:
    if charge.status not in COLLECTABLE:
        raise InvalidTransition(
            _("The charge is %(status)s: there is nothing left to collect.")
            % {"status": charge.get_status_display()}
        )


def _no_unknown_attempt(charge: Charge) -> None:
    if charge.attempts.filter(status=AttemptStatus.UNKNOWN).exists():
        raise InvalidTransition(
            _(
                "A payment attempt of this charge has an unknown outcome: the gateway may "
                "have taken the money. Retry to ask the gateway first."
            )
        )


def withdraw_pending_attempts(charge: Charge) -> int:
    """A QR code, payment notice or queued debit still out stops being expected (a
    debit not yet in a file never goes into one); if the customer pays it anyway, the
    money is booked to their prepaid balance. Returns how many were withdrawn.

    The caller holds the charge's lock; at most one attempt is open at a time."""
    withdrawn = 0
    for attempt in charge.attempts.filter(status=AttemptStatus.PENDING).order_by("id"):
        attempt_cancel(attempt=attempt)
        withdrawn += 1
    return withdrawn


def _no_money_collected(charge: Charge) -> None:
    if charge.attempts.filter(status=AttemptStatus.SUCCEEDED).exists():
        raise InvalidTransition(
            _("Part of this charge was collected: refund that payment before cancelling.")
        )


def _give_back_prepaid(charge: Charge, *, on: dt.date) -> int:
    """What the prepaid balance paid of the charge goes back there (the applications
    are reversed, so the journal keeps both). Returns how many were reversed."""
    entries = JournalEntry.objects.filter(
        kind=EntryKind.PREPAID_APPLIED,
        subject=charge_subject(charge.pk),
        reversed_by__isnull=True,
    ).order_by("id")
    count = 0
    for entry in entries:
        post_reversal(entry=entry, on=on, reference=f"{entry.reference}:cancel")
        count += 1
    return count


def charge_release(*, charge: Charge, on: dt.date) -> bool:
    """Take collection off a charge that is about to be cancelled or re-priced, by the
    rules of the staff cancel: refused while an attempt's outcome is unknown or once
    money was collected for it; otherwise what the prepaid balance paid goes back
    there and whatever is still out with the customer or the bank is withdrawn.

    The caller holds the charge's row lock and is in a transaction. True when
    something was given back or withdrawn, so collection has to start over.
    """
    _no_unknown_attempt(charge)
    _no_money_collected(charge)
    given_back = _give_back_prepaid(charge, on=on)
    withdrawn = withdraw_pending_attempts(charge)
    return bool(given_back or withdrawn)


@transaction.atomic
def charge_retry_now(*, charge: Charge | int) -> Charge:
    """Make a failed or overdue charge (or one whose attempt is in progress) due for
    collection today; the caller hands it to a worker after commit."""
    charge = _locked(charge)
    _collectable(charge)
    charge.next_attempt_on = timezone.localdate()
    charge.save(update_fields=["next_attempt_on", "updated_at"])
    return charge


@transaction.atomic
def charge_cancel(*, charge: Charge | int, reason: str = "") -> Charge:
    """Stop collecting a charge and take it out of the books: what the prepaid
    balance paid goes back there, and the receivable is reversed. ``reason`` goes
    into the ``charge.cancelled`` event."""
    charge = _locked(charge)
    _collectable(charge)
    today = timezone.localdate()
    charge_release(charge=charge, on=today)
    post_charge_cancellation(charge_id=charge.pk, on=today)
    resolve_collection_alerts(charge)
    return charge_states.charge_cancel(charge=charge, reason=reason.strip())


def resolve_collection_alerts(charge: Charge) -> None:
    """A charge no longer collected needs no alert about its collection."""
    subject = charge_subject(charge.pk)
    for kind in (AlertKind.CHARGE_OVERDUE, AlertKind.COLLECTION_BLOCKED):
        alerts_resolve(kind=kind, subject=subject)


@transaction.atomic
def write_off_request(
    *, charge: Charge | int, requested_by: AbstractBaseUser, reason: str
) -> WriteOffRequest:
    """Ask to give up on what is left of a fee charge; another user must approve."""
    charge = _locked(charge)
    _collectable(charge)
    _no_unknown_attempt(charge)
    if (charge.fee.treatment or SigningTreatment.FEE) != SigningTreatment.FEE:
        raise BusinessError(
            {"charge": [_("Only a fee can be written off; cancel a prepayment or deposit.")]}
        )
    if not reason.strip():
        raise BusinessError({"reason": [_("Say why the charge is written off.")]})
    amount = outstanding(charge)
    if amount.amount <= 0:
        raise BusinessError({"charge": [_("Nothing is outstanding on this charge.")]})
    try:
        with transaction.atomic():
            request = WriteOffRequest.objects.create(
                charge=charge, amount=amount, reason=reason.strip(), requested_by=requested_by
            )
    except IntegrityError:
        raise BusinessError(
            {"charge": [_("A write-off of this charge is already awaiting approval.")]}
        ) from None
    audit_record(
        action="write_off.requested",
        obj=request,
        changes={
            "after": {
                "charge": charge.pk,
                "amount": request.amount,
                "reason": request.reason,
                "requested_by": requested_by.pk,
                "status": request.status,
            }
        },
    )
    return request


def _decide(request: WriteOffRequest | int, user: AbstractBaseUser, target: str) -> WriteOffRequest:
    request_id = request.pk if isinstance(request, WriteOffRequest) else request
    charge_id = WriteOffRequest.objects.values_list("charge_id", flat=True).get(pk=request_id)
    _locked(charge_id)
    request = WriteOffRequest.objects.select_for_update().get(pk=request_id)
    decision_check(
        request,
        user=user,
        target=target,
        permission=APPROVE_PERMISSION,
        already=_("This write-off was already %(status)s."),
        same_user=_("A write-off must be decided by someone other than its requester."),
        forbidden=_("You are not allowed to approve write-offs."),
    )
    return request


@transaction.atomic
def write_off_approve(
    *, request: WriteOffRequest | int, approved_by: AbstractBaseUser, note: str = ""
) -> WriteOffRequest:
    request = _decide(request, approved_by, ApprovalStatus.APPROVED)
    charge = _locked(request.charge_id)
    _collectable(charge)
    _no_unknown_attempt(charge)
    left = outstanding(charge)
    if left != request.amount:
        raise BusinessError(
            {
                "amount": [
                    _(
                        "%(left)s is outstanding now, not the %(asked)s asked for: the "
                        "charge changed since the request. Reject it and ask again."
                    )
                    % {"left": left, "asked": request.amount}
                ]
            }
        )
    today = timezone.localdate()
    post_write_off(
        customer_id=charge.contract.customer_id,
        amount=request.amount,
        charge_id=charge.pk,
        on=today,
        reference=f"write-off:{request.pk}",
    )
    alerts_resolve(kind=AlertKind.CHARGE_OVERDUE, subject=charge_subject(charge.pk))
    withdraw_pending_attempts(charge)
    charge_states.charge_write_off(charge=charge)
    return decision_record(
        request,
        action="write_off.approved",
        status=ApprovalStatus.APPROVED,
        user=approved_by,
        note=note,
    )


@transaction.atomic
def write_off_reject(
    *, request: WriteOffRequest | int, rejected_by: AbstractBaseUser, note: str = ""
) -> WriteOffRequest:
    request = _decide(request, rejected_by, ApprovalStatus.REJECTED)
    return decision_record(
        request,
        action="write_off.rejected",
        status=ApprovalStatus.REJECTED,
        user=rejected_by,
        note=note,
    )
