"""Charge endpoints: read-only, the billing run is what creates charges."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from billing import selectors
from billing.filters import ChargeFilter
from feemgmt.api.pagination import CursorPagination
from feemgmt.api.rows import ValuesListMixin, amount_text, date_text, datetime_text
from feemgmt.api.scoping import CustomerScopedMixin

from .serializers import ChargeSerializer


@extend_schema_view(
    list=extend_schema(summary=_("List charges")),
    retrieve=extend_schema(summary=_("Get a charge")),
)
class ChargeViewSet(CustomerScopedMixin, ValuesListMixin, viewsets.ReadOnlyModelViewSet):
    """Newest due first. Each filter combination walks an index in this order from
    the cursor: (due_date, id) unfiltered or by kind, (status, due_date, id) by status,
    (contract, due_date) for a contract or a customer's contracts."""

    customer_path = "contract__customer"
    serializer_class = ChargeSerializer
    filterset_class = ChargeFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-due_date", "-id")
    # the list is rendered from these columns, as ChargeSerializer renders a charge
    list_columns = (
        "id",
        "contract_id",
        "fee_id",
        "kind",
        "period_start",
        "period_end",
        "due_date",
        "amount",
        "amount_currency",
        "status",
        "prorated",
        "contract__number",
        "contract__customer_id",
        "created_at",
        "updated_at",
    )

    def list_row(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "contract": row["contract_id"],
            "fee": row["fee_id"],
            "kind": row["kind"],
            "period_start": date_text(row["period_start"]),
            "period_end": date_text(row["period_end"]),
            "due_date": date_text(row["due_date"]),
            "amount": amount_text(row["amount"], row["amount_currency"]),
            "currency": row["amount_currency"],
            "status": row["status"],
            "prorated": row["prorated"],
            "contract_number": row["contract__number"],
            "customer": row["contract__customer_id"],
            "created_at": datetime_text(row["created_at"]),
            "updated_at": datetime_text(row["updated_at"]),
        }

    def get_queryset(self):
        return selectors.charge_list()
