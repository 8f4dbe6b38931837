"""Reads of charges that more than one caller needs (API, portal, reports)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Charge


def charge_list() -> QuerySet[Charge]:
    """Charges with their contract joined in, so a page shows contract numbers and
    customers without a query per row."""
    return Charge.objects.select_related("contract")
