"""The bench server's URLs: the product's, plus ``/bench/bare/...`` views that return
the same rows as each measured list with ``.values()`` as JSON: the same filters,
order, page size and cursor position, without DRF, django-filter, serializers or
templates. What the database and Django's request cycle alone cost for a page.
Served only by the bench (``bench/api_settings.py``), never by the product."""

from __future__ import annotations

import base64
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.http import JsonResponse
from django.urls import path

from billing.api.views import ChargeViewSet
from billing.models import Charge
from contracts.api.views import ContractViewSet
from contracts.models import Contract, Fee
from feemgmt.urls import urlpatterns as product_urls

# The columns each API list renders from (its view says which), so the bare view
# returns what the API does and the two cannot drift apart.
CHARGE_FIELDS = ChargeViewSet.list_columns
CHARGE_FILTERS = {
    "contract": "contract_id",
    "customer": "contract__customer_id",
    "status": "status",
    "kind": "kind",
    "due_date_after": "due_date__gte",
    "due_date_before": "due_date__lte",
}
CONTRACT_FIELDS = ContractViewSet.list_columns
FEE_FIELDS = ("id", "contract_id", "kind", "amount", "amount_currency", "cycle", "treatment")


def _json(rows) -> JsonResponse:
    return JsonResponse({"results": rows}, encoder=DjangoJSONEncoder)


def _key(request):
    raw = request.GET.get("cursor")
    if not raw:
        return None
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["k"]


def bare_charges(request):
    filters = {CHARGE_FILTERS[k]: v for k, v in request.GET.items() if k in CHARGE_FILTERS}
    queryset = Charge.objects.filter(**filters)
    key = _key(request)
    if key:
        queryset = queryset.filter(TupleLessThan(Tuple(F("due_date"), F("id")), tuple(key)))
    size = int(request.GET.get("page_size", 50))
    rows = queryset.order_by("-due_date", "-id").values(*CHARGE_FIELDS)[:size]
    return _json(list(rows))


def bare_contracts(request):
    rows = list(Contract.objects.order_by("-id").values(*CONTRACT_FIELDS)[:50])
    fees = {}
    for fee in Fee.objects.filter(contract_id__in=[r["id"] for r in rows]).values(*FEE_FIELDS):
        fees.setdefault(fee["contract_id"], []).append(fee)
    for row in rows:
        row["fees"] = fees.get(row["id"], [])
    return _json(rows)


def bare_charge_changelist(request):
    """The changelist's page: 100 charges with their contract and customer."""
    rows = Charge.objects.order_by("-due_date", "-id").values(
        *CHARGE_FIELDS, "contract__customer__code", "contract__customer__name", "next_attempt_on"
    )[:100]
    return _json(list(rows))


def bare_contract_changelist(request):
    rows = Contract.objects.order_by("-id").values(
        *CONTRACT_FIELDS, "customer__code", "customer__name"
    )[:100]
    return _json(list(rows))


urlpatterns = [
    path("bench/bare/charges/", bare_charges),
    path("bench/bare/contracts/", bare_contracts),
    path("bench/bare/admin/charges/", bare_charge_changelist),
    path("bench/bare/admin/contracts/", bare_contract_changelist),
    *product_urls,
]
