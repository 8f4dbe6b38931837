"""Charge endpoints: read-only, the billing run is what creates charges."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from billing import selectors
from billing.filters import ChargeFilter

from .serializers import ChargeSerializer


@extend_schema_view(
    list=extend_schema(summary=_("List charges")),
    retrieve=extend_schema(summary=_("Get a charge")),
)
class ChargeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ChargeSerializer
    filterset_class = ChargeFilter

    def get_queryset(self):
        return selectors.charge_list()
