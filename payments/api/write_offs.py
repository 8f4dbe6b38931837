"""Write-off requests: asked by one user, approved or rejected by another with the
approval permission, through ``payments.services.staff`` as in the admin."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from feemgmt.api.pagination import CursorPagination
from feemgmt.api.scoping import CustomerScopedMixin

from ..models import WriteOffRequest
from ..services.staff import write_off_approve, write_off_reject, write_off_request
from .common import (
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    REFUSED_CHANGE,
    CanApproveWriteOff,
    decider_refusals_forbidden,
    validated,
)
from .filters import WriteOffRequestFilter
from .serializers import DecisionSerializer, WriteOffRequestSerializer, WriteOffWriteSerializer

DECISION_FORBIDDEN = OpenApiResponse(
    description=_(
        "Without the permission to approve write-offs, or the request is the caller's "
        "own: another user decides it."
    )
)


@extend_schema_view(
    list=extend_schema(
        summary=_("List write-off requests"),
        description=_("Newest first, with filters by charge, customer, status and day."),
        responses={200: WriteOffRequestSerializer(many=True), 400: INVALID, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=_("Get a write-off request"),
        responses={200: WriteOffRequestSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Ask to write off what is outstanding on a charge"),
        description=_(
            "The amount is what is outstanding on the charge now; another user with "
            "the approval permission decides. Only a fee (not a prepayment or deposit) "
            "can be written off, one request at a time per charge. 409 when the charge "
            "is paid, cancelled or written off, or a payment of it has an unknown "
            "outcome."
        ),
        request=WriteOffWriteSerializer,
        responses={
            201: WriteOffRequestSerializer,
            400: INVALID,
            403: FORBIDDEN,
            409: REFUSED_CHANGE,
        },
    ),
)
class WriteOffRequestViewSet(
    CustomerScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    customer_path = "charge__contract__customer"
    serializer_class = WriteOffRequestSerializer
    filterset_class = WriteOffRequestFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    queryset = WriteOffRequest.objects.none()

    def get_queryset(self):
        return WriteOffRequest.objects.select_related(
            "charge__contract", "requested_by", "decided_by"
        )

    def _answer(self, request_obj: WriteOffRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=request_obj.pk)
        return Response(WriteOffRequestSerializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        data = validated(WriteOffWriteSerializer, request)
        asked = write_off_request(
            charge=data["charge"], requested_by=request.user, reason=data["reason"]
        )
        return self._answer(asked, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Approve a write-off request: the charge is written off"),
        description=_(
            "Someone other than the requester, with the permission to approve "
            "write-offs. Refused (400 on `amount`) when what is outstanding changed "
            "since the request: reject it and ask again."
        ),
        request=DecisionSerializer,
        responses={
            200: WriteOffRequestSerializer,
            400: INVALID,
            403: DECISION_FORBIDDEN,
            404: NOT_FOUND,
            409: REFUSED_CHANGE,
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanApproveWriteOff])
    def approve(self, request, pk=None):
        note = validated(DecisionSerializer, request)["note"]
        with decider_refusals_forbidden():
            decided = write_off_approve(
                request=self.get_object(), approved_by=request.user, note=note
            )
        return self._answer(decided)

    @extend_schema(
        summary=_("Reject a write-off request: collection goes on"),
        request=DecisionSerializer,
        responses={
            200: WriteOffRequestSerializer,
            400: INVALID,
            403: DECISION_FORBIDDEN,
            404: NOT_FOUND,
            409: REFUSED_CHANGE,
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanApproveWriteOff])
    def reject(self, request, pk=None):
        note = validated(DecisionSerializer, request)["note"]
        with decider_refusals_forbidden():
            decided = write_off_reject(
                request=self.get_object(), rejected_by=request.user, note=note
            )
        return self._answer(decided)
