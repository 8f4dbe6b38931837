"""Receiving accounts, statement import, lines, matches and discrepancies.

Views stay thin: they check the request's shape and call a service; the import's
``BusinessError`` (a line-numbered parse error, a file for another account) becomes
a 400 with the message under ``file``/``account`` in ``feemgmt.api.errors``.

Receiving accounts, statements and their lines, matches, discrepancies and runs
are the company's books, not one customer's: none declares a ``customer_path``, so
a key scoped to a customer is refused on all of them (feemgmt/api/permissions.py).
The charges are scoped like billing's (they are billing's viewset).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from billing.api.views import ChargeViewSet
from feemgmt.api.pagination import CursorPagination
from feemgmt.api.permissions import IsStaffWithModelPermissions

from .. import selectors, services
from ..models import Discrepancy, Match, ReconciliationRun, StatementLine
from ..services import discrepancies as discrepancy_services
from ..services import runs
from .charge_actions import ChargeActionsMixin
from .serializers import (
    BankAccountSerializer,
    BankAccountWriteSerializer,
    ChargeDetailSerializer,
    DiscrepancyResolveSerializer,
    DiscrepancySerializer,
    ImportSummarySerializer,
    MatchSerializer,
    ReconciliationRunPrepareSerializer,
    ReconciliationRunReopenSerializer,
    ReconciliationRunSerializer,
    StatementLineSerializer,
    StatementSerializer,
    StatementUploadSerializer,
)

REFUSED = OpenApiResponse(
    description=_("Invalid input, or a business rule refused it: a message per field.")
)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary=_("List charges")),
    retrieve=extend_schema(
        summary=_("Get a charge, with how to pay it by bank transfer"),
        responses=ChargeDetailSerializer,
    ),
)
class ChargeWithInstructionsViewSet(ChargeActionsMixin, ChargeViewSet):
    """The charge endpoints, whose detail adds the remittance reference and the
    receiving account (known only here, above billing and payments), with the
    staff actions retry/ and cancel/ (charge_actions.py)."""

    def get_serializer_class(self):
        return (
            ChargeDetailSerializer if self.action == "retrieve" else super().get_serializer_class()
        )


@extend_schema_view(
    list=extend_schema(summary=_("List receiving accounts")),
    retrieve=extend_schema(summary=_("Get a receiving account")),
    create=extend_schema(
        summary=_("Add a receiving account"),
        request=BankAccountWriteSerializer,
        responses={201: BankAccountSerializer, 400: REFUSED},
    ),
)
class BankAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = BankAccountSerializer
    filterset_fields = ["code", "kind", "currency", "active"]

    def get_queryset(self):
        return selectors.bank_account_list()

    def create(self, request, *args, **kwargs):
        account = services.bank_account_create(**_validated(BankAccountWriteSerializer, request))
        return Response(BankAccountSerializer(account).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary=_("List imported statements")),
    retrieve=extend_schema(summary=_("Get an imported statement")),
    create=extend_schema(
        summary=_("Import a statement file"),
        description=_(
            "Multipart upload: `file`, `account` (id or code) and optionally `format`. "
            "201 with what the import did; importing the same file again creates nothing "
            "and answers 200 with `already_imported` true. A file that cannot be read "
            "is refused with the line (or XML element) and the problem, and nothing is "
            "written."
        ),
        request={"multipart/form-data": StatementUploadSerializer},
        responses={201: ImportSummarySerializer, 200: ImportSummarySerializer, 400: REFUSED},
    ),
)
class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = StatementSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["account", "format"]

    def get_queryset(self):
        return selectors.statement_list()

    def create(self, request, *args, **kwargs):
        data = _validated(StatementUploadSerializer, request)
        upload = data["file"]
        summary = services.statement_import(
            account=data["account"],
            data=upload.read(),
            filename=upload.name or "",
            format=data.get("format") or "auto",
            user=request.user,
        )
        code = status.HTTP_200_OK if summary.already_imported else status.HTTP_201_CREATED
        return Response(ImportSummarySerializer(summary.as_dict()).data, status=code)


class StatementLineFilter(filters.FilterSet):
    class Meta:
        model = StatementLine
        fields = ["statement", "account", "status", "kind", "booked_on"]


@extend_schema_view(
    list=extend_schema(summary=_("List statement lines, with how each was matched")),
    retrieve=extend_schema(summary=_("Get a statement line")),
)
class StatementLineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StatementLineSerializer
    filterset_class = StatementLineFilter
    pagination_class = CursorPagination
    # a statement's lines in file order, on the (statement, line_no) index
    cursor_ordering = ("statement_id", "line_no", "id")

    def get_queryset(self):
        return selectors.statement_line_list()


class CanDecideMatch(IsStaffWithModelPermissions):
    """Confirming or rejecting changes a match: ``change_match``."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }


@extend_schema_view(
    list=extend_schema(summary=_("List matches and suggestions")),
    retrieve=extend_schema(summary=_("Get a match")),
)
class MatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MatchSerializer
    filterset_fields = ["line", "charge", "status", "method"]
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    queryset = Match.objects.none()

    def get_queryset(self):
        return selectors.match_list()

    @extend_schema(
        summary=_("Confirm a suggested match: the line pays that charge"),
        request=None,
        responses={200: MatchSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanDecideMatch])
    def confirm(self, request, pk=None):
        match = services.match_confirm(match=self.get_object(), by=request.user)
        return Response(MatchSerializer(match).data)

    @extend_schema(
        summary=_("Reject a suggested match"),
        request=None,
        responses={200: MatchSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanDecideMatch])
    def reject(self, request, pk=None):
        match = services.match_reject(match=self.get_object(), by=request.user)
        return Response(MatchSerializer(match).data)


class CanResolveDiscrepancy(IsStaffWithModelPermissions):
    """Resolving changes a discrepancy: ``change_discrepancy``."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }


@extend_schema_view(
    list=extend_schema(summary=_("List discrepancies")),
    retrieve=extend_schema(summary=_("Get a discrepancy")),
)
class DiscrepancyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DiscrepancySerializer
    filterset_fields = ["status", "kind", "account", "charge"]
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    queryset = Discrepancy.objects.none()

    def get_queryset(self):
        return selectors.discrepancy_list()

    @extend_schema(
        summary=_("Resolve a discrepancy"),
        request=DiscrepancyResolveSerializer,
        responses={200: DiscrepancySerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanResolveDiscrepancy])
    def resolve(self, request, pk=None):
        data = _validated(DiscrepancyResolveSerializer, request)
        discrepancy = self.get_object()
        outcome, note = data["outcome"], data["note"]
        if outcome == "assign":
            discrepancy = discrepancy_services.discrepancy_assign(
                discrepancy=discrepancy, charge_id=data["charge"], by=request.user, note=note
            )
        else:
            service = {
                "resolved": discrepancy_services.discrepancy_resolve,
                "waived": discrepancy_services.discrepancy_waive,
                "not_ours": discrepancy_services.discrepancy_mark_not_ours,
                "refund": discrepancy_services.discrepancy_refund_excess,
                "write_off": discrepancy_services.discrepancy_write_off_request,
                "approve_write_off": discrepancy_services.discrepancy_write_off_approve,
            }[outcome]
            discrepancy = service(discrepancy=discrepancy, by=request.user, note=note)
        return Response(DiscrepancySerializer(discrepancy).data)


class CanChangeRun(IsStaffWithModelPermissions):
    """Sign-off and reopening change a run; the services check the sign-off and
    reopen permissions themselves (and that the signer is not the preparer)."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.view_%(model_name)s"],
    }


@extend_schema_view(
    list=extend_schema(summary=_("List reconciliation runs")),
    retrieve=extend_schema(summary=_("Get a reconciliation run")),
    create=extend_schema(
        summary=_("Prepare a reconciliation run for an account and period"),
        description=_(
            "Computes the statement total against the books for the period; preparing "
            "a period again recomputes it unless it was signed off."
        ),
        request=ReconciliationRunPrepareSerializer,
        responses={201: ReconciliationRunSerializer, 400: REFUSED, 409: REFUSED},
    ),
)
class ReconciliationRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ReconciliationRunSerializer
    filterset_fields = ["account", "status"]
    queryset = ReconciliationRun.objects.none()

    def get_queryset(self):
        return ReconciliationRun.objects.select_related("account")

    def create(self, request, *args, **kwargs):
        data = _validated(ReconciliationRunPrepareSerializer, request)
        run = runs.reconciliation_run_prepare(by=request.user, **data)
        return Response(ReconciliationRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Sign off a reconciliation run (someone other than its preparer)"),
        request=None,
        responses={200: ReconciliationRunSerializer, 400: REFUSED, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="sign-off", permission_classes=[CanChangeRun])
    def sign_off(self, request, pk=None):
        run = runs.reconciliation_run_sign_off(run=self.get_object(), by=request.user)
        return Response(ReconciliationRunSerializer(run).data)

    @extend_schema(
        summary=_("Reopen a signed-off run (finance manager, with a reason)"),
        request=ReconciliationRunReopenSerializer,
        responses={200: ReconciliationRunSerializer, 400: REFUSED, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChangeRun])
    def reopen(self, request, pk=None):
        data = _validated(ReconciliationRunReopenSerializer, request)
        run = runs.reconciliation_run_reopen(run=self.get_object(), by=request.user, **data)
        return Response(ReconciliationRunSerializer(run).data)
