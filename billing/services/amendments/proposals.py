"""Staff's side of an amendment: propose, approve (which sends it to the customer),
reject, withdraw; and the daily lapse of those nobody consented to in time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_record_bulk, changes_between, snapshot
from contracts.choices import ContractStatus, FeeKind
from contracts.models import Fee
from contracts.services import FeeInput, fee_values
from feemgmt.core.exceptions import BusinessError, InvalidTransition

from ... import calendar
from ...amounts import fee_amount_on
from ...choices import AMENDMENT_TRANSITIONS, AmendmentStatus, amendment_statuses_into
from ...models import Charge, FeeAmendment

# What the audit events record of an amendment (docs/audit.md lists the actions).
AMENDMENT_AUDIT_FIELDS = [
    "contract",
    "fee",
    "old_amount",
    "new_amount",
    "effective_from",
    "reason",
    "status",
]
APPROVE_FIELDS = ["status", "approved_by", "approved_at"]
CLOSE_FIELDS = ["status", "decided_at"]
AMENDABLE_CONTRACTS = (ContractStatus.SIGNED, ContractStatus.ACTIVE)


def check_amendment_transition(current: str, target: str) -> None:
    if target not in AMENDMENT_TRANSITIONS[current]:
        raise InvalidTransition(
            _("The fee change is %(current)s and cannot become %(target)s.")
            % {
                "current": AmendmentStatus(current).label,
                "target": AmendmentStatus(target).label,
            }
        )


def amendment_lock(amendment: FeeAmendment) -> FeeAmendment:
    """The amendment re-read under its row lock, with its contract and fee."""
    return (
        FeeAmendment.objects.select_for_update(of=("self",))
        .select_related("contract", "fee", "contract__customer")
        .get(pk=amendment.pk)
    )


def check_still_ahead(amendment: FeeAmendment, *, today: dt.date) -> None:
    """A change is decided before the day it takes effect: on that day the
    billing run charges the period, and a change not consented by then lapses."""
    if amendment.effective_from <= today:
        raise BusinessError(
            _(
                "The change was to take effect on %(date)s: it can no longer be decided "
                "and lapses, the current fee stays."
            )
            % {"date": amendment.effective_from.isoformat()},
            code="lapsed",
        )


def check_not_billed(fee: Fee, effective_from: dt.date) -> None:
    """No period from ``effective_from`` on may have been charged already (the fee
    row is locked by the caller, as the billing run locks it)."""
    if Charge.objects.filter(fee=fee, period_start__gte=effective_from).exists():
        raise BusinessError(
            {"effective_from": [_("A period from this date on has already been charged.")]}
        )


def _new_amount(fee: Fee, value, currency: str):
    values, errors = fee_values(
        FeeInput(kind=fee.kind, amount=value, cycle=fee.cycle, treatment=fee.treatment), currency
    )
    if "amount" in errors:
        raise BusinessError({"new_amount": errors["amount"]})
    return values["amount"]


@transaction.atomic
def amendment_propose(
    *, fee: Fee, new_amount: Decimal | str, effective_from: dt.date, reason: str, by
) -> FeeAmendment:
    """Propose a new amount for a recurring fee from one of its future period
    starts. Nothing changes until a second person approves it and the customer
    consents."""
    fee = Fee.objects.select_for_update().select_related("contract").get(pk=fee.pk)
    contract = fee.contract
    today = timezone.localdate()
    if contract.status not in AMENDABLE_CONTRACTS:
        raise BusinessError(
            {
                "fee": [
                    _("Only a signed or active contract's fees are changed by amendment.")
                    if contract.status != ContractStatus.DRAFT
                    else _("A draft contract's fees are edited directly, not amended.")
                ]
            }
        )
    if fee.kind != FeeKind.RECURRING:
        raise BusinessError(
            {"fee": [_("Only recurring fees can be changed: one-off fees are charged once.")]}
        )
    reason = (reason or "").strip()
    if not reason:
        raise BusinessError({"reason": [_("Say why the fee changes: the customer reads it.")]})
    amount = _new_amount(fee, new_amount, contract.currency)
    if effective_from <= today:
        raise BusinessError(
            {"effective_from": [_("A fee change takes effect from a future period start.")]}
        )
    if not calendar.is_due_date(
        cycle=fee.cycle,
        alignment=contract.alignment,
        service_start=contract.service_start,
        service_end=contract.service_end,
        day=effective_from,
    ):
        following = calendar.next_due_after(
            cycle=fee.cycle,
            alignment=contract.alignment,
            service_start=contract.service_start,
            service_end=contract.service_end,
            after=max(effective_from, today),
        )
        hint = (
            _("The next one after it is %(date)s.") % {"date": following.isoformat()}
            if following
            else _("The service ends before another period starts.")
        )
        raise BusinessError(
            {
                "effective_from": [
                    _("A fee change takes effect at the start of one of the fee's periods.")
                    + " "
                    + hint
                ]
            }
        )
    check_not_billed(fee, effective_from)
    old_amount = fee_amount_on(fee, effective_from)
    if old_amount == amount:
        raise BusinessError(
            {"new_amount": [_("The fee is already %(amount)s.") % {"amount": amount}]}
        )
    amendment = FeeAmendment(
        contract=contract,
        fee=fee,
        old_amount=old_amount,
        new_amount=amount,
        effective_from=effective_from,
        reason=reason,
        proposed_by=by,
    )
    try:
        with transaction.atomic():
            amendment.save()
    except IntegrityError as exc:
        raise BusinessError(
            {"fee": [_("This fee already has a change waiting for a decision.")]}, code="unique"
        ) from exc
    audit_record(
        action="amendment.proposed",
        obj=amendment,
        changes={"after": snapshot(amendment, AMENDMENT_AUDIT_FIELDS)},
    )
    return amendment


def _move(amendment: FeeAmendment, target: str, fields: list[str], action: str, **values):
    before = snapshot(amendment, fields)
    for name, value in values.items():
        setattr(amendment, name, value)
    amendment.status = target
    amendment.save(update_fields=[*values, "status", "updated_at"])
    audit_record(
        action=action, obj=amendment, changes=changes_between(before, snapshot(amendment, fields))
    )
    return amendment


@transaction.atomic
def amendment_approve(*, amendment: FeeAmendment, by) -> FeeAmendment:
    """A second person approves the change, which sends it to the customer (an
    e-mail after commit, and the portal's list of changes to decide)."""
    from ...tasks import amendment_notify_task

    amendment = amendment_lock(amendment)
    check_amendment_transition(amendment.status, AmendmentStatus.SENT)
    if amendment.proposed_by_id == by.pk:
        raise BusinessError(
            {"approved_by": [_("A fee change is approved by someone other than its proposer.")]},
            code="same_user",
        )
    check_still_ahead(amendment, today=timezone.localdate())
    _move(
        amendment,
        AmendmentStatus.SENT,
        APPROVE_FIELDS,
        "amendment.approved",
        approved_by=by,
        approved_at=timezone.now(),
    )
    transaction.on_commit(lambda: amendment_notify_task.delay(amendment.pk))
    return amendment


@transaction.atomic
def amendment_reject(*, amendment: FeeAmendment, by) -> FeeAmendment:
    amendment = amendment_lock(amendment)
    check_amendment_transition(amendment.status, AmendmentStatus.REJECTED)
    return _move(
        amendment,
        AmendmentStatus.REJECTED,
        CLOSE_FIELDS,
        "amendment.rejected",
        decided_at=timezone.now(),
    )


@transaction.atomic
def amendment_withdraw(*, amendment: FeeAmendment, by) -> FeeAmendment:
    """Staff take back a change not yet decided (the customer no longer sees it)."""
    amendment = amendment_lock(amendment)
    check_amendment_transition(amendment.status, AmendmentStatus.WITHDRAWN)
    return _move(
        amendment,
        AmendmentStatus.WITHDRAWN,
        CLOSE_FIELDS,
        "amendment.withdrawn",
        decided_at=timezone.now(),
    )


@transaction.atomic
def amendments_lapse(*, on: dt.date) -> int:
    """Every change still undecided on (or after) its effective date lapses: the
    old fee stays. Set-based, one audit event for all of them."""
    ids = list(
        FeeAmendment.objects.select_for_update()
        .filter(status__in=amendment_statuses_into(AmendmentStatus.LAPSED), effective_from__lte=on)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    FeeAmendment.objects.filter(id__any=ids).update(
        status=AmendmentStatus.LAPSED, decided_at=timezone.now(), updated_at=timezone.now()
    )
    audit_record_bulk(
        action="amendments.lapsed",
        model=FeeAmendment,
        ids=ids,
        fields=("fee_id", "effective_from", "new_amount"),
        extra={"on": on, "lapsed": len(ids)},
    )
    return len(ids)


@transaction.atomic
def amendments_end_with_contract(*, contract) -> int:
    """A termination withdraws the undecided changes that would take effect after
    the new last day of service: no period is left for them, and the customer is
    not asked to consent to one. Set-based, one audit event for all of them."""
    if contract.service_end is None:
        return 0
    ids = list(
        FeeAmendment.objects.select_for_update()
        .filter(
            contract=contract,
            status__in=amendment_statuses_into(AmendmentStatus.WITHDRAWN),
            effective_from__gt=contract.service_end,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    now = timezone.now()
    FeeAmendment.objects.filter(id__any=ids).update(
        status=AmendmentStatus.WITHDRAWN, decided_at=now, updated_at=now
    )
    audit_record_bulk(
        action="amendments.withdrawn",
        model=FeeAmendment,
        ids=ids,
        fields=("fee_id", "effective_from", "new_amount"),
        extra={"contract": contract.pk, "service_end": contract.service_end, "withdrawn": len(ids)},
    )
    return len(ids)
