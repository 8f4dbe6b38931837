"""Customer and contract endpoints.

Views stay thin: a write serializer checks the shape of the request, the view
passes the result to a service by keyword, and renders what the service returns.
Rules (unique numbers, fee combinations, draft-only edits, the contract state
machine) live in ``contracts.services``; their ``BusinessError`` becomes a 400 (or
409 for a refused status change) in ``feemgmt.api.errors``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from contracts import selectors, services
from contracts.models import Fee
from feemgmt.api.pagination import CursorPagination
from feemgmt.api.permissions import IsStaffWithModelPermissions
from feemgmt.api.rows import ValuesListMixin, amount_text, date_text, datetime_text
from feemgmt.api.scoping import CustomerScopedMixin, customer_scope

from .serializers import (
    ContractSerializer,
    ContractSignSerializer,
    ContractTerminateSerializer,
    ContractWriteSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    fee_inputs,
)

RULE_REFUSED = OpenApiResponse(
    description=_("Invalid input, or a business rule refused it: a message per field.")
)
TRANSITION_REFUSED = OpenApiResponse(
    description=_("The contract's current status does not allow this change.")
)
SCOPED_CREATE = _("This API key is limited to one customer: it cannot create customers.")


class CanChangeContract(IsStaffWithModelPermissions):
    """Signing and terminating change a contract: they need ``change_contract``,
    not the ``add_contract`` a plain POST would ask for."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }


def _validated(serializer_class, request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary=_("List customers")),
    retrieve=extend_schema(summary=_("Get a customer")),
    create=extend_schema(
        summary=_("Create a customer"),
        request=CustomerWriteSerializer,
        responses={201: CustomerSerializer, 400: RULE_REFUSED},
    ),
    update=extend_schema(
        summary=_("Replace a customer's details"),
        request=CustomerWriteSerializer,
        responses={200: CustomerSerializer, 400: RULE_REFUSED},
    ),
    partial_update=extend_schema(
        summary=_("Change some of a customer's details"),
        request=CustomerWriteSerializer,
        responses={200: CustomerSerializer, 400: RULE_REFUSED},
    ),
)
class CustomerViewSet(
    CustomerScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Customers are never deleted through the API: their contracts and charges
    refer to them. A key scoped to a customer sees (and may change) that one."""

    customer_path = "pk"
    serializer_class = CustomerSerializer
    filterset_fields = ["code", "credit_code"]
    pagination_class = CursorPagination
    cursor_ordering = ("code",)  # unique: the cursor walks its index

    def get_queryset(self):
        return selectors.customer_list()

    def create(self, request, *args, **kwargs):
        if customer_scope(request) is not None:
            raise PermissionDenied(SCOPED_CREATE)
        customer = services.customer_create(**_validated(CustomerWriteSerializer, request))
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        customer = self.get_object()
        data = _validated(CustomerWriteSerializer, request, partial=partial)
        customer = services.customer_update(customer=customer, **data)
        return Response(CustomerSerializer(customer).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


@extend_schema_view(
    list=extend_schema(summary=_("List contracts")),
    retrieve=extend_schema(summary=_("Get a contract with its fees")),
    create=extend_schema(
        summary=_("Create a draft contract with its fees"),
        request=ContractWriteSerializer,
        responses={201: ContractSerializer, 400: RULE_REFUSED},
    ),
    update=extend_schema(
        summary=_("Replace a draft contract's terms and fees"),
        request=ContractWriteSerializer,
        responses={200: ContractSerializer, 400: RULE_REFUSED},
    ),
    partial_update=extend_schema(
        summary=_("Change some terms of a draft contract"),
        description=_(
            "Only draft contracts can be edited. When `fees` is given it replaces all of "
            "the contract's fees."
        ),
        request=ContractWriteSerializer,
        responses={200: ContractSerializer, 400: RULE_REFUSED},
    ),
)
class ContractViewSet(
    CustomerScopedMixin,
    ValuesListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Contracts are created as drafts, edited while draft, then signed (which
    freezes their fees and bills what is due) and possibly terminated early."""

    customer_path = "customer"
    serializer_class = ContractSerializer
    filterset_fields = ["customer", "status", "number"]
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    # the list is rendered from these columns, as ContractSerializer renders a contract
    list_columns = (
        "id",
        "customer_id",
        "number",
        "currency",
        "service_start",
        "service_end",
        "alignment",
        "proration",
        "payment_method",
        "status",
        "signed_on",
        "terminated_at",
        "created_at",
        "updated_at",
    )

    def list_row(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "customer": row["customer_id"],
            "number": row["number"],
            "currency": row["currency"],
            "service_start": date_text(row["service_start"]),
            "service_end": date_text(row["service_end"]),
            "alignment": row["alignment"],
            "proration": row["proration"],
            "payment_method": row["payment_method"],
            "status": row["status"],
            "signed_on": date_text(row["signed_on"]),
            "terminated_at": datetime_text(row["terminated_at"]),
            "fees": [],
            "created_at": datetime_text(row["created_at"]),
            "updated_at": datetime_text(row["updated_at"]),
        }

    def list_extend(self, rows: list[dict]) -> None:
        """The page's fees, in one query."""
        by_contract = {row["id"]: row["fees"] for row in rows}
        fees = Fee.objects.filter(contract_id__in=by_contract).order_by("contract_id", "id")
        for fee in fees.values(
            "contract_id", "id", "kind", "amount", "amount_currency", "cycle", "treatment"
        ):
            by_contract[fee["contract_id"]].append(
                {
                    "id": fee["id"],
                    "kind": fee["kind"],
                    "amount": amount_text(fee["amount"], fee["amount_currency"]),
                    "cycle": fee["cycle"] or None,
                    "treatment": fee["treatment"] or None,
                }
            )

    def get_queryset(self):
        return selectors.contract_list()

    def create(self, request, *args, **kwargs):
        data = _validated(ContractWriteSerializer, request)
        data["fees"] = fee_inputs(data["fees"])
        contract = services.contract_create(**data)
        return Response(ContractSerializer(contract).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        contract = self.get_object()
        data = _validated(ContractWriteSerializer, request, partial=partial)
        if "fees" in data:
            data["fees"] = fee_inputs(data["fees"])
        contract = services.contract_update(contract=contract, **data)
        return Response(ContractSerializer(contract).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Sign a draft contract"),
        description=_(
            "Freezes the fees and bills what is already due: the signing fee at once, and "
            "recurring and service-start fees from the service start. The contract becomes "
            "`active` when its service has begun, `signed` otherwise."
        ),
        request=ContractSignSerializer,
        responses={200: ContractSerializer, 400: RULE_REFUSED, 409: TRANSITION_REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChangeContract])
    def sign(self, request, pk=None):
        contract = self.get_object()
        data = _validated(ContractSignSerializer, request)
        contract = services.contract_sign(contract=contract, **data)
        return Response(ContractSerializer(contract).data)

    @extend_schema(
        summary=_("Terminate a contract early"),
        description=_(
            "`end_date` becomes the last day of service: later charges are cancelled and "
            "the period it cuts is re-priced as the contract's proration says."
        ),
        request=ContractTerminateSerializer,
        responses={200: ContractSerializer, 400: RULE_REFUSED, 409: TRANSITION_REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChangeContract])
    def terminate(self, request, pk=None):
        contract = self.get_object()
        data = _validated(ContractTerminateSerializer, request)
        contract = services.contract_terminate(contract=contract, **data)
        return Response(ContractSerializer(contract).data)
