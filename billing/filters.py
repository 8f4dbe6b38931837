"""Filters on charges, shared by the API (and any list that wants the same
query-string vocabulary)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from contracts.models import Contract, Customer

from .models import Charge


class ChargeFilter(filters.FilterSet):
    """``due_date`` matches one day; ``due_date_after`` and ``due_date_before``
    bound a range, both inclusive, and combine with each other."""

    contract = filters.ModelChoiceFilter(queryset=Contract.objects.all(), label=_("Contract id."))
    customer = filters.ModelChoiceFilter(
        field_name="contract__customer",
        queryset=Customer.objects.all(),
        label=_("Customer id: charges of all the customer's contracts."),
    )
    due_date = filters.DateFilter(label=_("Due on exactly this date (YYYY-MM-DD)."))
    due_date_after = filters.DateFilter(
        field_name="due_date",
        lookup_expr="gte",
        label=_("Due on or after this date (YYYY-MM-DD, inclusive)."),
    )
    due_date_before = filters.DateFilter(
        field_name="due_date",
        lookup_expr="lte",
        label=_("Due on or before this date (YYYY-MM-DD, inclusive)."),
    )

    class Meta:
        model = Charge
        fields = ["contract", "customer", "status", "kind", "due_date"]
