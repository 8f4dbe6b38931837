"""Reads of charges that more than one caller needs (API, portal, reports)."""

from __future__ import annotations

from django.db.models import QuerySet

from contracts.models import Fee

from .amounts import amount_changes
from .calendar import ChargeSpec
from .models import Charge, FeeAmendment
from .services.run import FEE_COLUMNS, due_for_fee


def charge_list() -> QuerySet[Charge]:
    """Charges with their contract joined in, so a page shows contract numbers and
    customers without a query per row."""
    return Charge.objects.select_related("contract")


def fee_next_charge(fee_id: int) -> ChargeSpec | None:
    """The charge the billing run will create on the fee's next due date, as the run
    will compute it (the period a service end cuts is prorated), or None when nothing
    is left to bill. For telling a customer beforehand what will be charged."""
    row = Fee.objects.filter(pk=fee_id).values_list(*FEE_COLUMNS, named=True).first()
    if row is None or row.next_due_date is None:
        return None
    specs, _following = due_for_fee(
        row, row.next_due_date, amount_changes([fee_id]).get(fee_id, ())
    )
    return next((spec for spec in specs if spec.due_date == row.next_due_date), None)


def customer_amendments(customer_id: int) -> QuerySet[FeeAmendment]:
    """The fee changes a customer sees in the portal: every one sent to them
    (approved), newest first, with the contract and fee for the page."""
    return (
        FeeAmendment.objects.filter(contract__customer_id=customer_id, approved_at__isnull=False)
        .select_related("contract", "fee", "decision")
        .order_by("-id")
    )
