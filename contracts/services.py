"""Writes on customers and contracts. Each service is one transaction and raises
BusinessError (nothing written) when a rule refuses the change.

Each change ends by recording its audit event in the same transaction, so the event
commits or rolls back with the change it describes (docs/audit.md). Recording takes
the chain lock until the transaction ends, which is why it is the last step.
"""

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

from audit.services import audit_record, audit_record_bulk, changes_between, snapshot
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from feemgmt.core.money import minor_digits, money

from . import events
from .choices import (
    CONTRACT_TRANSITIONS,
    Alignment,
    ContractStatus,
    Cycle,
    FeeKind,
    Proration,
    SigningTreatment,
    contract_statuses_into,
)
from .models import Contract, Customer, Fee

# What the audit events record of each row (docs/audit.md lists the actions).
CUSTOMER_AUDIT_FIELDS = ["code", "name", "email", "currency", "credit_code"]
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
FEE_AUDIT_FIELDS = ["kind", "amount", "cycle", "treatment"]
SIGN_FIELDS = ["status", "signed_on"]
TERMINATE_FIELDS = ["status", "service_end", "terminated_at"]
# A bulk status event digests only what no later change touches: once signed, a
# contract's number, customer, signing date and service start are frozen (a
# termination moves service_end, and statuses move on by design).
ADVANCE_DIGEST_FIELDS = ["number", "customer", "signed_on", "service_start"]
# Ids per UPDATE in the daily status job (well below SQLite's bound parameters).
ADVANCE_IDS_PER_QUERY = 10_000


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


def _fee_terms(contract: Contract) -> list[dict]:
    """The contract's fees as recorded: their terms, in the order they were given
    (ids are left out: an update replaces the rows, not necessarily the terms)."""
    return [snapshot(fee, FEE_AUDIT_FIELDS) for fee in contract.fees.order_by("pk")]


def _contract_state(contract: Contract) -> dict:
    return {**snapshot(contract, CONTRACT_AUDIT_FIELDS), "fees": _fee_terms(contract)}


@transaction.atomic
def customer_create(
    *, code: str, name: str, email: str, currency: str | None = None, credit_code: str = ""
) -> Customer:
    customer = Customer(code=code, name=name, email=email, credit_code=credit_code or "")
    if currency:
        customer.currency = currency
    _full_clean(customer)
    _save_unique(customer, _customer_unique_messages())
    audit_record(
        action="customer.created",
        obj=customer,
        changes={"after": snapshot(customer, CUSTOMER_AUDIT_FIELDS)},
    )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    """Change a customer's details; an event records the fields that changed (none
    is recorded when nothing did)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = snapshot(customer, CUSTOMER_AUDIT_FIELDS)
    for name, value in fields.items():
        setattr(customer, name, value)
    _full_clean(customer)
    _save_unique(customer, _customer_unique_messages())
    changes = changes_between(before, snapshot(customer, CUSTOMER_AUDIT_FIELDS))
    if changes:
        audit_record(action="customer.updated", obj=customer, changes=changes)
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
    changes = changes_between(before, _contract_state(contract))
    if changes:
        audit_record(action="contract.updated", obj=contract, changes=changes)
    return contract


def _fee_due_dates(fees: Sequence[Fee]) -> dict[str, dt.date | None]:
    """Each fee's first due date by fee id: what signing sets on the fees."""
    return {str(fee.pk): fee.next_due_date for fee in fees}


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
    before = {**snapshot(contract, SIGN_FIELDS), "fees.next_due_date": _fee_due_dates(fees)}
    contract.status = ContractStatus.SIGNED
    contract.signed_on = signed_on
    if contract.service_start <= today:
        # service has begun: on to active in the same step, as the table allows
        check_transition(contract.status, ContractStatus.ACTIVE)
        contract.status = ContractStatus.ACTIVE
    contract.save(update_fields=["status", "signed_on", "updated_at"])
    for fee in fees:
        fee.next_due_date = _first_due(fee, contract)
    Fee.objects.bulk_update(fees, ["next_due_date"])
    events.contract_signed.send(sender=Contract, contract=contract, on=today, bill_now=bill_now)
    after = {**snapshot(contract, SIGN_FIELDS), "fees.next_due_date": _fee_due_dates(fees)}
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


# The daily status job's moves, in order: a contract whose service is over ends
# (even if it never became active), then a signed one whose service has begun
# becomes active.
_ADVANCES = (
    (ContractStatus.ENDED, "service_end__lt"),
    (ContractStatus.ACTIVE, "service_start__lte"),
)


@transaction.atomic
def contracts_advance_status(*, on: dt.date) -> dict[str, int]:
    """Move signed contracts whose service has begun to active, and contracts whose
    service has ended to ended.

    Set-based, as a daily job over the whole book must be: per move, one query locks
    the contracts that qualify (from the statuses the transition table allows) and
    one update moves them. One bulk audit event then covers every contract moved,
    with the moves by id; no event when nothing moved.
    """
    now = timezone.now()
    counts: dict[str, int] = {}
    moves: list[dict] = []
    moved_ids: list[int] = []
    for target, lookup in _ADVANCES:
        rows = list(
            Contract.objects.select_for_update()
            .filter(**{lookup: on}, status__in=contract_statuses_into(target))
            .order_by("pk")
            .values_list("pk", "status")
        )
        ids = [pk for pk, _status in rows]
        for start in range(0, len(ids), ADVANCE_IDS_PER_QUERY):
            Contract.objects.filter(pk__in=ids[start : start + ADVANCE_IDS_PER_QUERY]).update(
                status=target, updated_at=now
            )
        counts[target] = len(ids)
        for source in sorted({status for _pk, status in rows}):
            moves.append(
                {
                    "from": source,
                    "to": target,
                    "ids": [pk for pk, status in rows if status == source],
                }
            )
        moved_ids.extend(ids)
    if moved_ids:
        audit_record_bulk(
            action="contract.status_advanced",
            model=Contract,
            ids=moved_ids,
            fields=ADVANCE_DIGEST_FIELDS,
            object_type=Contract._meta.label_lower,
            extra={
                "on": on,
                "activated": counts[ContractStatus.ACTIVE],
                "ended": counts[ContractStatus.ENDED],
                "moves": moves,
            },
        )
    return {"activated": counts[ContractStatus.ACTIVE], "ended": counts[ContractStatus.ENDED]}
