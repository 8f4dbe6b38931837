"""Customers: created and changed through these services, each with its event."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record, changes_between, snapshot

from ..models import Customer
from .common import full_clean, save_unique

CUSTOMER_AUDIT_FIELDS = ["code", "name", "email", "currency", "credit_code"]


@transaction.atomic
def customer_create(
    *, code: str, name: str, email: str, currency: str | None = None, credit_code: str = ""
) -> Customer:
    customer = Customer(code=code, name=name, email=email, credit_code=credit_code or "")
    if currency:
        customer.currency = currency
    full_clean(customer)
    save_unique(customer, _customer_unique_messages())
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
    full_clean(customer)
    save_unique(customer, _customer_unique_messages())
    changes = changes_between(before, snapshot(customer, CUSTOMER_AUDIT_FIELDS))
    if changes:
        audit_record(action="customer.updated", obj=customer, changes=changes)
    return customer


def _customer_unique_messages() -> dict[str, str]:
    return {
        "credit_code": _("Another customer has this credit code."),
        "code": _("A customer with this code already exists."),
    }
