"""Reads for the documents' pages: which charges have a receipt."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.choices import ChargeStatus
from billing.models import Charge
from contracts.models import Customer


def paid_charges(customer: Customer) -> QuerySet[Charge]:
    """The customer's paid charges, newest due first, each with its contract: the
    charges a receipt can be downloaded for."""
    return (
        Charge.objects.filter(contract__customer=customer, status=ChargeStatus.PAID)
        .select_related("contract")
        .order_by("-due_date", "-id")
    )
