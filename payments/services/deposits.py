"""Releasing a contract's deposit when the contract ends (docs/collection.md,
"Deposits").

Once a contract is terminated or has ended, the deposit it collected pays what the
customer still owes and the rest goes back to them. One user asks for the release
(:func:`deposit_release_request`) and sees the plan; another approves it
(:func:`deposit_release_approve`) — only then is anything booked: each charge paid
from the deposit (``deposit_applied`` entries; the charge is paid, or stays
collectable for what is left), its payment notice or QR code withdrawn, and the
rest refunded through the attempts that collected the deposit. If the customer's
charges changed in between, approval is refused: the approver approves what was
asked, or rejects it and it is asked again.

A contract that ends with a deposit still held raises a ``deposit_held`` alert (at
termination, and from the daily check for contracts that ran out), resolved when
the release is approved. Status changes follow
:data:`payments.choices.APPROVAL_TRANSITIONS` and record ``deposit_release.*``.
Locks: the charges in id order, then the release, then attempts and accounts.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import AlertKind
from alerts.services import alert_raise, alerts_resolve
from audit.services import audit_record
from billing.choices import COLLECTABLE_STATUSES
from billing.models import Charge
from contracts.choices import ContractStatus, SigningTreatment
from contracts.models import Contract
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money_from_db, money_label
from ledger.postings import apply_deposit, charge_subject
from payments.choices import (
    ApprovalStatus,
    AttemptStatus,
    RefundSource,
    RefundStatus,
)
from payments.models import DepositRelease, PaymentAttempt, Refund
from payments.selectors import DepositPlan, deposit_attempts, deposit_held, deposit_release_plan

from .approvals import decision_check, decision_record
from .collection import outstanding, settle_charge
from .refunds import payment_refund_request, refund_send, refundable
from .staff import withdraw_pending_attempts

APPROVE_PERMISSION = "payments.approve_depositrelease"
ENDED = (ContractStatus.ENDED, ContractStatus.TERMINATED)


def contract_subject(contract_id: int) -> str:
    return f"contract:{contract_id}"


def _plan_refused(plan: DepositPlan) -> None:
    if plan.held.amount <= 0:
        raise BusinessError({"contract": [_("No deposit is held for this contract.")]})
    if plan.blocked:
        raise BusinessError(
            {
                "contract": [
                    _(
                        "Charge #%(charge)s has a payment whose outcome is unknown: the "
                        "gateway may have taken the money. Retry it first."
                    )
                    % {"charge": plan.blocked[0].pk}
                ]
            }
        )


@transaction.atomic
def deposit_release_request(
    *,
    contract: Contract | int,
    requested_by: AbstractBaseUser,
    reason: str,
    on: dt.date | None = None,
) -> DepositRelease:
    """Ask to release an ended contract's deposit; another user approves it."""
    on = on or timezone.localdate()
    contract_id = contract.pk if isinstance(contract, Contract) else contract
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    if contract.status not in ENDED:
        raise BusinessError(
            {
                "contract": [
                    _("A deposit is released once its contract has ended or was terminated.")
                ]
            }
        )
    if not reason.strip():
        raise BusinessError({"reason": [_("Say why the deposit is released.")]})
    plan = deposit_release_plan(contract, on=on)
    _plan_refused(plan)
    try:
        with transaction.atomic():
            release = DepositRelease.objects.create(
                contract=contract,
                held=plan.held,
                applied=plan.applied,
                refunded=plan.refund,
                plan=plan.as_stored(),
                reason=reason.strip(),
                requested_by=requested_by,
            )
    except IntegrityError:
        raise BusinessError(
            {
                "contract": [
                    _("This contract's deposit was already released or is awaiting approval.")
                ]
            }
        ) from None
    audit_record(
        action="deposit_release.requested",
        obj=release,
        changes={
            "after": {
                "contract": contract.pk,
                "held": release.held,
                "applied": release.applied,
                "refunded": release.refunded,
                "plan": release.plan,
                "reason": release.reason,
                "requested_by": requested_by.pk,
                "status": release.status,
            }
        },
    )
    return release


def _decide(release: DepositRelease | int, user: AbstractBaseUser, target: str) -> DepositRelease:
    release_id = release.pk if isinstance(release, DepositRelease) else release
    release = DepositRelease.objects.select_for_update().get(pk=release_id)
    decision_check(
        release,
        user=user,
        target=target,
        permission=APPROVE_PERMISSION,
        already=_("This deposit release was already %(status)s."),
        same_user=_("A deposit release must be decided by someone other than its requester."),
        forbidden=_("You are not allowed to approve deposit releases."),
    )
    return release


def _lock_charges(release: DepositRelease) -> None:
    """Every charge the approval may touch, in id order (as every writer locks
    them): the customer's charges still to collect and the contract's deposits."""
    contract = release.contract
    ids = (
        Charge.objects.filter(
            Q(contract__customer_id=contract.customer_id, status__in=COLLECTABLE_STATUSES)
            | Q(contract=contract, fee__treatment=SigningTreatment.DEPOSIT)
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    list(Charge.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("id"))


def _apply(release: DepositRelease, plan: DepositPlan, *, on: dt.date) -> None:
    customer_id = release.contract.customer_id
    for charge, amount in plan.items:
        apply_deposit(
            customer_id=customer_id,
            amount=amount,
            charge_id=charge.pk,
            on=on,
            reference=f"deposit-release:{release.pk}:{charge_subject(charge.pk)}",
        )
        # What was asked of the customer no longer stands: a notice or QR code
        # still out is withdrawn; the rest, if any, is collected afresh.
        withdraw_pending_attempts(charge)
        if outstanding(charge).amount <= 0:
            settle_charge(charge, on=on)
        else:
            charge.next_attempt_on = on
            charge.save(update_fields=["next_attempt_on", "updated_at"])


def _refund_rest(release: DepositRelease, plan: DepositPlan, by) -> list:
    rest = plan.refund
    refunds = []
    for attempt in deposit_attempts(release.contract):
        if rest.amount <= 0:
            break
        available = refundable(attempt)
        if available.amount <= 0:
            continue
        amount = min(rest, available)
        refunds.append(
            payment_refund_request(
                attempt=attempt,
                amount=amount,
                reason=_("Deposit of contract %(number)s returned at its end")
                % {"number": release.contract.number},
                requested_by=by,
            )
        )
        rest -= amount
    if rest.amount > 0:  # the deposit's payments cannot carry it: nothing is booked
        raise BusinessError(
            {
                "refunded": [
                    _("%(rest)s of the deposit cannot be refunded through its payments.")
                    % {"rest": money_label(rest)}
                ]
            }
        )
    release.refunds.add(*refunds)
    return refunds


def deposit_release_approve(
    *, release: DepositRelease | int, approved_by: AbstractBaseUser, note: str = ""
) -> DepositRelease:
    """A second person approves: the deposit pays the charges owed, the rest is
    refunded (sent to the gateway or bank once the approval is committed)."""
    release_id = release.pk if isinstance(release, DepositRelease) else release
    on = timezone.localdate()
    with transaction.atomic():
        _lock_charges(DepositRelease.objects.select_related("contract").get(pk=release_id))
        release = _decide(release_id, approved_by, ApprovalStatus.APPROVED)
        plan = deposit_release_plan(release.contract, on=on)
        _plan_refused(plan)
        if (plan.held, plan.refund, plan.as_stored()) != (
            release.held,
            release.refunded,
            release.plan,
        ):
            raise BusinessError(
                {
                    "release": [
                        _(
                            "The customer's charges or the deposit changed since the "
                            "release was asked for (now %(applied)s would pay charges and "
                            "%(refund)s be refunded). Reject it and ask again."
                        )
                        % {
                            "applied": money_label(plan.applied),
                            "refund": money_label(plan.refund),
                        }
                    ]
                }
            )
        _apply(release, plan, on=on)
        refunds = _refund_rest(release, plan, approved_by) if plan.refund.amount > 0 else []
        alerts_resolve(kind=AlertKind.DEPOSIT_HELD, subject=contract_subject(release.contract_id))
        release = decision_record(
            release,
            status=ApprovalStatus.APPROVED,
            user=approved_by,
            note=note,
            action="deposit_release.approved",
        )
        for refund in refunds:
            transaction.on_commit(partial(refund_send, refund=refund.pk))
    return release


@transaction.atomic
def deposit_release_reject(
    *, release: DepositRelease | int, rejected_by: AbstractBaseUser, note: str = ""
) -> DepositRelease:
    release = _decide(release, rejected_by, ApprovalStatus.REJECTED)
    return decision_record(
        release,
        status=ApprovalStatus.REJECTED,
        user=rejected_by,
        note=note,
        action="deposit_release.rejected",
    )


# --- Finding deposits to release -------------------------------------------------------


def deposit_held_alert(contract: Contract, *, held) -> None:
    alert_raise(
        kind=AlertKind.DEPOSIT_HELD,
        subject=contract_subject(contract.pk),
        customer=contract.customer_id,
        message=_(
            "Contract %(number)s has ended (last day %(end)s) and its deposit of %(held)s "
            "is still held: release it to pay what the customer owes and refund the rest."
        )
        % {
            "number": contract.number,
            "end": contract.service_end.isoformat() if contract.service_end else "—",
            "held": money_label(held),
        },
    )


def deposits_find_unreleased() -> int:
    """Raise a ``deposit_held`` alert for every ended or terminated contract whose
    deposit is still held and not released: two aggregate queries and one for the
    contracts, then one alert each (raising is idempotent: one open alert a
    contract). Returns how many contracts hold a deposit to release."""
    pending = Q(
        charge__contract__deposit_releases__status__in=(
            ApprovalStatus.REQUESTED,
            ApprovalStatus.APPROVED,
        )
    )
    attempts = PaymentAttempt.objects.filter(
        status=AttemptStatus.SUCCEEDED,
        charge__fee__treatment=SigningTreatment.DEPOSIT,
        charge__contract__status__in=ENDED,
    ).exclude(pending)
    collected = {
        row["charge__contract_id"]: row["total"]
        for row in attempts.values("charge__contract_id").annotate(total=Sum("amount")).order_by()
    }
    refunded = {
        row["attempt__charge__contract_id"]: row["total"]
        for row in Refund.objects.filter(
            attempt__in=attempts,
            source=RefundSource.PAYMENT,
            status__in=(RefundStatus.PENDING, RefundStatus.MANUAL, RefundStatus.SUCCEEDED),
        )
        .values("attempt__charge__contract_id")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    found = 0
    for contract in Contract.objects.filter(pk__in=list(collected)).order_by("id"):
        held = money_from_db(collected[contract.pk], contract.currency) - money_from_db(
            refunded.get(contract.pk), contract.currency
        )
        if held.amount > 0:
            deposit_held_alert(contract, held=held)
            found += 1
    return found


def deposit_check_at_termination(contract: Contract) -> None:
    """A terminated contract whose deposit is held gets its alert at once."""
    held = deposit_held(contract)
    if held.amount > 0:
        deposit_held_alert(contract, held=held)
