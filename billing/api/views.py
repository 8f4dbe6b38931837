"""Charge endpoints: read-only, the billing run is what creates charges."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from billing import selectors
from billing.filters import ChargeFilter
from feemgmt.api.pagination import CursorPagination

from .serializers import ChargeSerializer


@extend_schema_view(
    list=extend_schema(summary=_("List charges")),
    retrieve=extend_schema(summary=_("Get a charge")),
)
class ChargeViewSet(viewsets.ReadOnlyModelViewSet):
    """Newest due first. Each filter combination walks an index in this order from
    the cursor: (due_date, id) unfiltered or by kind, (status, due_date, id) by status,
    (contract, due_date) for a contract or a customer's contracts."""

    serializer_class = ChargeSerializer
    filterset_class = ChargeFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-due_date", "-id")

    def get_queryset(self):
        return selectors.charge_list()
