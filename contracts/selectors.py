"""Reads of customers and contracts that more than one caller needs (API, portal,
admin), shaped so that listing them costs a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Contract, Customer


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.all()


def contract_list() -> QuerySet[Contract]:
    """Contracts with their fees, fetched in one extra query for the whole page."""
    return Contract.objects.prefetch_related("fees")
