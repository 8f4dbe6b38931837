"""A contract from draft to signed and terminated: one service per transition,
each locking the contract, checking the transitions table and recording its
event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, changes_between, snapshot
from feemgmt.core.exceptions import BusinessError, InvalidTransition

from .. import events
from ..choices import CONTRACT_TRANSITIONS, Alignment, ContractStatus, Proration
from ..models import Contract, Customer, Fee
from .common import full_clean, save_unique
from .fees import FeeInput, build_fees, fee_due_dates, fee_terms, first_due

# What the audit events record of a contract (docs/audit.md lists the actions).
CONTRACT_AUDIT_FIELDS = [
    "customer",
    "number",
    "currency",
    "service_start",
    "service_end",
    "alignment",
    "proration",
    "payment_method",
    "status",
]
SIGN_FIELDS = ["status", "signed_on"]
TERMINATE_FIELDS = ["status", "service_end", "terminated_at"]


def check_transition(current: str, target: str) -> None:
    """Refuse a status change the table does not allow (InvalidTransition, a 409)."""
    if target not in CONTRACT_TRANSITIONS[current]:
        raise InvalidTransition(
            _("The contract is %(current)s and cannot become %(target)s.")
            % {
                "current": ContractStatus(current).label,
                "target": ContractStatus(target).label,
            }
        )


def check_dates(service_start: dt.date, service_end: dt.date | None) -> None:
    if service_end and service_end < service_start:
        raise BusinessError(
            {"service_end": [_("The service end must not be before the service start.")]}
        )


def check_signing(signed_on: dt.date, *, service_end: dt.date | None, today: dt.date) -> None:
    if signed_on > today:
        raise BusinessError({"signed_on": [_("A contract cannot be signed in the future.")]})
    if service_end and signed_on > service_end:
        raise BusinessError({"signed_on": [_("The signing date is after the end of service.")]})


def check_termination(
    end_date: dt.date, *, signed_on: dt.date, service_end: dt.date | None
) -> None:
    if end_date < signed_on:
        raise BusinessError({"end_date": [_("The end date must not be before the signing date.")]})
    if service_end and end_date > service_end:
        raise BusinessError(
            {
                "end_date": [
                    _("The contract already ends on %(date)s; terminating cannot extend it.")
                    % {"date": service_end.isoformat()}
                ]
            }
        )


def _contract_state(contract: Contract) -> dict:
    return {**snapshot(contract, CONTRACT_AUDIT_FIELDS), "fees": fee_terms(contract)}


@transaction.atomic
def contract_create(
    *,
    customer: Customer,
    number: str,
    service_start: dt.date,
    payment_method: str,
    fees: Sequence[FeeInput],
    currency: str | None = None,
    service_end: dt.date | None = None,
    alignment: str = Alignment.CALENDAR,
    proration: str = Proration.DAILY,
) -> Contract:
    """Create a draft contract with its fees. Nothing is due until it is signed."""
    contract = Contract(
        customer=customer,
        number=number,
        currency=currency or customer.currency,
        service_start=service_start,
        service_end=service_end,
        alignment=alignment,
        proration=proration,
        payment_method=payment_method,
    )
    full_clean(contract)
    check_dates(contract.service_start, contract.service_end)
    built = build_fees(contract, fees)
    save_unique(contract, {"number": _("A contract with this number already exists.")})
    Fee.objects.bulk_create(built)
    audit_record(
        action="contract.created", obj=contract, changes={"after": _contract_state(contract)}
    )
    return contract


@transaction.atomic
def contract_update(
    *, contract: Contract, fees: Sequence[FeeInput] | None = None, **fields
) -> Contract:
    """Change a draft. Once signed, terms and fees are frozen."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if not contract.is_draft:
        raise BusinessError(
            _("Contract %(number)s is %(status)s: only draft contracts can be edited.")
            % {"number": contract.number, "status": contract.get_status_display()},
            code="contract_frozen",
        )
    before = _contract_state(contract)
    for name, value in fields.items():
        setattr(contract, name, value)
    full_clean(contract)
    check_dates(contract.service_start, contract.service_end)
    if fees is not None:
        built = build_fees(contract, fees)
    elif "currency" in fields and contract.fees.exclude(amount_currency=contract.currency):
        raise BusinessError({"currency": [_("Give the fees again in the new currency.")]})
    save_unique(contract, {"number": _("A contract with this number already exists.")})
    if fees is not None:
        contract.fees.all().delete()
        Fee.objects.bulk_create(built)
    changes = changes_between(before, _contract_state(contract))
    if changes:
        audit_record(action="contract.updated", obj=contract, changes=changes)
    return contract


@transaction.atomic
def contract_sign(*, contract: Contract, signed_on: dt.date, bill_now: bool = True) -> Contract:
    """Sign a draft: its fees are frozen and become due (the signing fee on the
    signing day, the others from service start).

    By default whatever is already due is billed at once, so the signing fee shows
    the same day. Loading a book of existing contracts (an import, the demo) passes
    ``bill_now=False`` and leaves it to the billing run, which catches up in bulk.
    """
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    check_transition(contract.status, ContractStatus.SIGNED)
    today = timezone.localdate()
    check_signing(signed_on, service_end=contract.service_end, today=today)
    fees = list(contract.fees.all())
    if not fees:
        raise BusinessError({"fees": [_("A contract needs at least one fee.")]})
    before = {**snapshot(contract, SIGN_FIELDS), "fees.next_due_date": fee_due_dates(fees)}
    contract.status = ContractStatus.SIGNED
    contract.signed_on = signed_on
    if contract.service_start <= today:
        # service has begun: on to active in the same step, as the table allows
        check_transition(contract.status, ContractStatus.ACTIVE)
        contract.status = ContractStatus.ACTIVE
    contract.save(update_fields=["status", "signed_on", "updated_at"])
    for fee in fees:
        fee.next_due_date = first_due(
            fee.kind,
            signed_on=contract.signed_on,
            service_start=contract.service_start,
            service_end=contract.service_end,
        )
    Fee.objects.bulk_update(fees, ["next_due_date"])
    events.contract_signed.send(sender=Contract, contract=contract, on=today, bill_now=bill_now)
    after = {**snapshot(contract, SIGN_FIELDS), "fees.next_due_date": fee_due_dates(fees)}
    audit_record(action="contract.signed", obj=contract, changes=changes_between(before, after))
    return contract


@transaction.atomic
def contract_terminate(*, contract: Contract, end_date: dt.date) -> Contract:
    """End a contract early: nothing is charged for days after ``end_date``, which
    becomes the last day of service; the period it cuts is prorated as the
    contract's proration says. The layers above cut the charges in the same
    transaction and may refuse the whole termination (BusinessError), e.g. while a
    payment of a charge to cut has an unknown outcome."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    check_transition(contract.status, ContractStatus.TERMINATED)
    check_termination(end_date, signed_on=contract.signed_on, service_end=contract.service_end)
    before = snapshot(contract, TERMINATE_FIELDS)
    contract.status = ContractStatus.TERMINATED
    contract.service_end = end_date
    contract.terminated_at = timezone.now()
    contract.save(update_fields=["status", "service_end", "terminated_at", "updated_at"])
    events.contract_terminated.send(sender=Contract, contract=contract)
    audit_record(
        action="contract.terminated",
        obj=contract,
        changes=changes_between(before, snapshot(contract, TERMINATE_FIELDS)),
    )
    return contract
