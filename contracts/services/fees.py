"""A contract's fees: the input a caller gives, checked into field values, and when
each becomes due once the contract is signed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from audit.services import snapshot
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import minor_digits, money

from ..choices import Cycle, FeeKind, SigningTreatment
from ..models import Contract, Fee

FEE_AUDIT_FIELDS = ["kind", "amount", "cycle", "treatment"]


@dataclass(frozen=True, slots=True)
class FeeInput:
    kind: str
    amount: Decimal | str
    cycle: str = ""
    treatment: str = ""


def fee_values(fee: FeeInput, currency: str) -> tuple[dict, dict[str, list[str]]]:
    """The Fee field values of ``fee`` in ``currency``, and the errors by field
    (nothing is valid while there are errors)."""
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


def build_fees(contract: Contract, fees: Sequence[FeeInput]) -> list[Fee]:
    if not fees:
        raise BusinessError({"fees": [_("A contract needs at least one fee.")]})
    built, errors_by_index = [], {}
    for index, fee in enumerate(fees):
        values, errors = fee_values(fee, contract.currency)
        if errors:
            # keyed by position, the shape DRF gives a nested list's errors
            errors_by_index[str(index)] = errors
        else:
            built.append(Fee(contract=contract, **values))
    if errors_by_index:
        raise BusinessError({"fees": errors_by_index})
    return built


def fee_due_dates(fees: Sequence[Fee]) -> dict[str, dt.date | None]:
    """Each fee's first due date by fee id: what signing sets on the fees."""
    return {str(fee.pk): fee.next_due_date for fee in fees}


def first_due(
    kind: str, *, signed_on: dt.date, service_start: dt.date, service_end: dt.date | None
) -> dt.date | None:
    """When a fee of ``kind`` first becomes due once its contract is signed: the
    signing fee on the signing day, the others from service start (never, for a
    contract whose service ends before it starts)."""
    if kind == FeeKind.SIGNING:
        return signed_on
    if service_end and service_end < service_start:
        return None
    return service_start


def fee_terms(contract: Contract) -> list[dict]:
    """The contract's fees as recorded: their terms, in the order they were given
    (ids are left out: an update replaces the rows, not necessarily the terms)."""
    return [snapshot(fee, FEE_AUDIT_FIELDS) for fee in contract.fees.order_by("pk")]
