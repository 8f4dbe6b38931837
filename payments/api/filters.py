"""Query-string filters of the collection lists.

Filters by object (``charge``, ``customer``, ``attempt``) accept only ids a scoped
key may see (feemgmt/api/scoping.py); dates are days in the billing time zone,
both bounds inclusive.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from billing.models import Charge
from contracts.models import Customer

from ..models import Mandate, PaymentAttempt, Refund, WriteOffRequest


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class _CreatedRange(filters.FilterSet):
    """``<field>`` from the start of ``*_after`` to the end of ``*_before``, as
    datetime bounds so that the index on the column is used."""

    def filter_after(self, queryset, name, value):
        return queryset.filter(**{f"{name}__gte": _day_start(value)})

    def filter_before(self, queryset, name, value):
        return queryset.filter(**{f"{name}__lt": _day_start(value + dt.timedelta(days=1))})


def _after(field: str, label) -> filters.DateFilter:
    return filters.DateFilter(field_name=field, method="filter_after", label=label)


def _before(field: str, label) -> filters.DateFilter:
    return filters.DateFilter(field_name=field, method="filter_before", label=label)


def _customer(path: str) -> filters.ModelChoiceFilter:
    return filters.ModelChoiceFilter(
        field_name=path, queryset=Customer.objects.all(), label=_("Customer id.")
    )


def _charge(path: str) -> filters.ModelChoiceFilter:
    return filters.ModelChoiceFilter(
        field_name=path, queryset=Charge.objects.all(), label=_("Charge id.")
    )


class PaymentAttemptFilter(_CreatedRange):
    charge = _charge("charge")
    customer = _customer("charge__contract__customer")
    method = filters.ChoiceFilter(
        choices=list(settings.PAYMENT_METHODS.items()), label=_("Payment method.")
    )
    created_after = _after("created_at", _("Made on or after this day (YYYY-MM-DD, inclusive)."))
    created_before = _before("created_at", _("Made on or before this day (YYYY-MM-DD, inclusive)."))

    class Meta:
        model = PaymentAttempt
        fields = ["charge", "customer", "status", "method"]


class RefundFilter(_CreatedRange):
    attempt = filters.ModelChoiceFilter(
        queryset=PaymentAttempt.objects.all(), label=_("Payment attempt id.")
    )
    charge = _charge("attempt__charge")
    customer = _customer("attempt__charge__contract__customer")
    created_after = _after(
        "created_at", _("Requested on or after this day (YYYY-MM-DD, inclusive).")
    )
    created_before = _before(
        "created_at", _("Requested on or before this day (YYYY-MM-DD, inclusive).")
    )

    class Meta:
        model = Refund
        fields = ["attempt", "charge", "customer", "status", "source"]


class WriteOffRequestFilter(_CreatedRange):
    charge = _charge("charge")
    customer = _customer("charge__contract__customer")
    requested_after = _after(
        "requested_at", _("Requested on or after this day (YYYY-MM-DD, inclusive).")
    )
    requested_before = _before(
        "requested_at", _("Requested on or before this day (YYYY-MM-DD, inclusive).")
    )

    class Meta:
        model = WriteOffRequest
        fields = ["charge", "customer", "status"]


class MandateFilter(filters.FilterSet):
    customer = _customer("customer")

    class Meta:
        model = Mandate
        fields = ["customer", "status", "reference"]
