"""Customer scoping: an API key scoped to one customer sees and creates only that
customer's objects, on every endpoint (docs/api.md, "Customer scoping").

A viewset says where its rows' customer is with ``customer_path``, the lookup whose
value is the customer's id::

    class ChargeViewSet(CustomerScopedMixin, viewsets.ReadOnlyModelViewSet):
        customer_path = "contract__customer"

Lists and details then go through the scope (``filter_queryset``, which
``get_object`` uses too): another customer's id is a 404, exactly like an id that
does not exist. A fee amendment viewset, for instance, declares
``customer_path = "fee__contract__customer"`` (or however its model reaches the
customer) and puts the mixin first in its bases.

Fields of a write serializer that name another object use
:class:`CustomerScopedPrimaryKeyRelatedField` with the path from that object to its
customer, so naming another customer's contract is refused as if it did not exist
(400 on the field). The serializer needs ``context={"request": request}``.

A view without ``customer_path`` (receiving accounts, statements, risk rules: the
company's own data) is refused to scoped keys by the default permission class
(``feemgmt.api.permissions``): a new endpoint is closed to them until it says how
it is scoped. Unscoped keys, sessions and tokens are not filtered at all.

This module reads the key duck-typed (``request.auth.is_api_key``,
``.customer_id``): the app that defines keys (``integrations``) sits above the apps
whose views use this.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers

from .filtering import FilterBackend

# How the objects a list can be filtered by reach their customer, for the filters'
# choices (a filter naming a model not here accepts no value from a scoped key).
RELATED_CUSTOMER_PATHS = {
    "contracts.customer": "pk",
    "contracts.contract": "customer",
    "contracts.fee": "contract__customer",
    "billing.charge": "contract__customer",
    "payments.paymentattempt": "charge__contract__customer",
    "payments.mandate": "customer",
    "payments.refund": "attempt__charge__contract__customer",
    "payments.writeoffrequest": "charge__contract__customer",
}


def api_key_of(request):
    """The API key the request was authenticated with, or None."""
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_api_key", False) else None


def customer_scope(request) -> int | None:
    """The id of the one customer the request may see, or None when it may see all."""
    key = api_key_of(request)
    return key.customer_id if key is not None else None


def scope_queryset(queryset: QuerySet, request, customer_path: str | None) -> QuerySet:
    """``queryset`` limited to the request's customer (unchanged when unscoped;
    empty for a scoped request on rows without a customer path)."""
    customer_id = customer_scope(request) if request is not None else None
    if customer_id is None:
        return queryset
    if customer_path is None:
        return queryset.none()
    return queryset.filter(**{customer_path: customer_id})


class CustomerScopedFilterBackend(FilterBackend):
    """The project's filters, with the choices of a filter by object
    (``?customer=``, ``?contract=``) limited to the scoped key's customer: another
    customer's id lists nothing, as an unknown id does, so the answer does not tell
    whether it exists."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None or customer_scope(request) is None:
            return filterset
        for field in filterset.form.fields.values():
            choices = getattr(field, "queryset", None)
            if choices is not None:
                path = RELATED_CUSTOMER_PATHS.get(choices.model._meta.label_lower)
                field.queryset = scope_queryset(choices, request, path)
        return filterset


class CustomerScopedMixin:
    """Limits a viewset's lists and details to a scoped key's customer; set
    ``customer_path`` (see the module's docstring). Put it first in the bases.
    Its filters go through :class:`CustomerScopedFilterBackend`."""

    customer_path: str | None = None
    filter_backends = [CustomerScopedFilterBackend]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return scope_queryset(queryset, self.request, self.customer_path)


class CustomerScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that a scoped key may name only for its own customer's
    objects; any other is "does not exist", as for an unknown id.

    ``customer_path`` goes from the related model to its customer: ``"pk"`` for a
    customer, ``"customer"`` for a contract, ``"contract__customer"`` for a charge.
    """

    def __init__(self, *, customer_path: str, **kwargs):
        self.customer_path = customer_path
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        return scope_queryset(queryset, self.context.get("request"), self.customer_path)
