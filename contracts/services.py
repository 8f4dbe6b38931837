"""Writes on customers and contracts. Each service is one transaction and raises
BusinessError (nothing written) when a rule refuses the change."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feemgmt.core.exceptions import BusinessError, InvalidTransition
from feemgmt.core.money import minor_digits, money

from . import events
from .choices import Alignment, ContractStatus, Cycle, FeeKind, Proration, SigningTreatment
from .models import Contract, Customer, Fee

# The contract state machine: every status change goes through this table.
TRANSITIONS: dict[str, frozenset[str]] = {
    ContractStatus.DRAFT: frozenset({ContractStatus.SIGNED}),
    ContractStatus.SIGNED: frozenset(
        {ContractStatus.ACTIVE, ContractStatus.ENDED, ContractStatus.TERMINATED}
    ),
    ContractStatus.ACTIVE: frozenset({ContractStatus.ENDED, ContractStatus.TERMINATED}),
    ContractStatus.ENDED: frozenset(),
    ContractStatus.TERMINATED: frozenset(),
}


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            _("The contract is %(current)s and cannot become %(target)s.")
            % {
                "current": ContractStatus(current).label,
                "target": ContractStatus(target).label,
            }
        )


@dataclass(frozen=True, slots=True)
class FeeInput:
    kind: str
    amount: Decimal | str
    cycle: str = ""
    treatment: str = ""


def _full_clean(instance, *, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise BusinessError(exc.message_dict) from exc


def _clean_fee(fee: FeeInput, currency: str) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    values: dict = {"kind": fee.kind, "cycle": fee.cycle or "", "treatment": fee.treatment or ""}
    if fee.kind not in FeeKind.values:
        errors["kind"] = [_("Choose one of: %s.") % ", ".join(FeeKind.values)]
    try:
        amount = Decimal(str(fee.amount))
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        errors["amount"] = [_("Enter the amount as a decimal number, e.g. 1200.00.")]
    else:
        digits = minor_digits(currency)
        if amount <= 0:
            errors["amount"] = [_("The amount must be greater than zero.")]
        elif -amount.as_tuple().exponent > digits and amount != amount.quantize(
            Decimal(1).scaleb(-digits)
        ):
            errors["amount"] = [
                _("%(currency)s amounts have at most %(digits)d decimal places.")
                % {"currency": currency, "digits": digits}
            ]
        elif amount >= Decimal(10) ** 12:
            errors["amount"] = [_("The amount is too large.")]
        else:
            values["amount"] = money(amount, currency)
    if fee.kind == FeeKind.RECURRING:
        if fee.cycle not in Cycle.values:
            errors["cycle"] = [_("A recurring fee needs a cycle: %s.") % ", ".join(Cycle.values)]
    elif fee.cycle:
        errors["cycle"] = [_("Only recurring fees have a cycle.")]
    if fee.kind == FeeKind.SIGNING:
        if fee.treatment not in SigningTreatment.values:
            errors["treatment"] = [
                _("A signing fee needs a treatment: %s.") % ", ".join(SigningTreatment.values)
            ]
    elif fee.treatment:
        errors["treatment"] = [_("Only signing fees have a treatment.")]
    return values, errors


def _build_fees(contract: Contract, fees: Sequence[FeeInput]) -> list[Fee]:
    if not fees:
        raise BusinessError({"fees": [_("A contract needs at least one fee.")]})
    built, errors_by_index = [], {}
    for index, fee in enumerate(fees):
        values, errors = _clean_fee(fee, contract.currency)
        if errors:
            # keyed by position, the shape DRF gives a nested list's errors
            errors_by_index[str(index)] = errors
        else:
            built.append(Fee(contract=contract, **values))
    if errors_by_index:
        raise BusinessError({"fees": errors_by_index})
    return built


def _check_dates(contract: Contract) -> None:
    if contract.service_end and contract.service_end < contract.service_start:
        raise BusinessError(
            {"service_end": [_("The service end must not be before the service start.")]}
        )


def _save_unique(instance, messages: dict[str, str]) -> None:
    """Save, turning a unique violation into a message on the field it concerns.

    The database decides (two requests racing for one number cannot both win);
    ``messages`` is ordered so that a longer column name is tried before a name it
    contains (credit_code before code).
    """
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        text = str(exc)
        for field, message in messages.items():
            if re.search(rf"\b{field}\b|_{field}_(key|unique)", text):
                raise BusinessError({field: [message]}, code="unique") from exc
        raise


def _customer_unique_messages() -> dict[str, str]:
    return {
        "credit_code": _("Another customer has this credit code."),
        "code": _("A customer with this code already exists."),
    }


@transaction.atomic
def customer_create(
    *, code: str, name: str, email: str, currency: str | None = None, credit_code: str = ""
) -> Customer:
    customer = Customer(code=code, name=name, email=email, credit_code=credit_code or "")
    if currency:
        customer.currency = currency
    _full_clean(customer)
    _save_unique(customer, _customer_unique_messages())
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for name, value in fields.items():
        setattr(customer, name, value)
    _full_clean(customer)
    _save_unique(customer, _customer_unique_messages())
    return customer


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
    _full_clean(contract)
    _check_dates(contract)
    built = _build_fees(contract, fees)
    _save_unique(contract, {"number": _("A contract with this number already exists.")})
    Fee.objects.bulk_create(built)
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
    for name, value in fields.items():
        setattr(contract, name, value)
    _full_clean(contract)
    _check_dates(contract)
    if fees is not None:
        built = _build_fees(contract, fees)
    elif "currency" in fields and contract.fees.exclude(amount_currency=contract.currency):
        raise BusinessError({"currency": [_("Give the fees again in the new currency.")]})
    _save_unique(contract, {"number": _("A contract with this number already exists.")})
    if fees is not None:
        contract.fees.all().delete()
        Fee.objects.bulk_create(built)
    return contract


def _first_due(fee: Fee, contract: Contract) -> dt.date | None:
    if fee.kind == FeeKind.SIGNING:
        return contract.signed_on
    if contract.service_end and contract.service_end < contract.service_start:
        return None
    return contract.service_start


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
    if signed_on > today:
        raise BusinessError({"signed_on": [_("A contract cannot be signed in the future.")]})
    if contract.service_end and signed_on > contract.service_end:
        raise BusinessError({"signed_on": [_("The signing date is after the end of service.")]})
    fees = list(contract.fees.all())
    if not fees:
        raise BusinessError({"fees": [_("A contract needs at least one fee.")]})
    contract.status = ContractStatus.SIGNED
    contract.signed_on = signed_on
    if contract.service_start <= today:
        contract.status = ContractStatus.ACTIVE
    contract.save(update_fields=["status", "signed_on", "updated_at"])
    for fee in fees:
        fee.next_due_date = _first_due(fee, contract)
    Fee.objects.bulk_update(fees, ["next_due_date"])
    events.contract_signed.send(sender=Contract, contract=contract, on=today, bill_now=bill_now)
    return contract


@transaction.atomic
def contract_terminate(*, contract: Contract, end_date: dt.date) -> Contract:
    """End a contract early: nothing is charged for days after ``end_date``, which
    becomes the last day of service; the period it cuts is prorated as the
    contract's proration says."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    check_transition(contract.status, ContractStatus.TERMINATED)
    if end_date < contract.signed_on:
        raise BusinessError({"end_date": [_("The end date must not be before the signing date.")]})
    if contract.service_end and end_date > contract.service_end:
        raise BusinessError(
            {
                "end_date": [
                    _("The contract already ends on %(date)s; terminating cannot extend it.")
                    % {"date": contract.service_end.isoformat()}
                ]
            }
        )
    contract.status = ContractStatus.TERMINATED
    contract.service_end = end_date
    contract.terminated_at = timezone.now()
    contract.save(update_fields=["status", "service_end", "terminated_at", "updated_at"])
    events.contract_terminated.send(sender=Contract, contract=contract)
    return contract


@transaction.atomic
def contracts_advance_status(*, on: dt.date) -> dict[str, int]:
    """Move signed contracts whose service has begun to active, and contracts whose
    service has ended to ended, in two set-based updates."""
    now = timezone.now()
    ended = Contract.objects.filter(
        status__in=[ContractStatus.SIGNED, ContractStatus.ACTIVE], service_end__lt=on
    ).update(status=ContractStatus.ENDED, updated_at=now)
    activated = Contract.objects.filter(status=ContractStatus.SIGNED, service_start__lte=on).update(
        status=ContractStatus.ACTIVE, updated_at=now
    )
    return {"activated": activated, "ended": ended}
