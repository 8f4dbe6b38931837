"""Alerts over the API: read, newest first, filtered by what finance sorts them by.
Their workflow (acknowledge, assign, snooze, resolve) is in the admin."""

from django_filters import rest_framework as filters
from rest_framework import viewsets

from feemgmt.api.pagination import CursorPagination
from feemgmt.api.scoping import CustomerScopedMixin

from ..choices import OPEN_STATUSES
from ..models import Alert
from ..selectors import alert_list
from .serializers import AlertSerializer


class AlertFilter(filters.FilterSet):
    open = filters.BooleanFilter(method="filter_open", label="open")

    class Meta:
        model = Alert
        fields = ["status", "severity", "kind", "customer"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)


class AlertViewSet(CustomerScopedMixin, viewsets.ReadOnlyModelViewSet):
    """A key scoped to a customer sees that customer's alerts only (not the
    company-wide ones, which name no customer)."""

    customer_path = "customer"
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    queryset = Alert.objects.none()

    def get_queryset(self):
        return alert_list()
