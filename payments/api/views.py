"""Payment attempts (read) and refunds (read, and asked for as the admin's refund
page does).

Views stay thin: a write serializer checks the request's shape, the view calls the
service (``payments.services.refunds``) and renders what it returns. Every list is
a cursor page in a fixed number of queries, and every viewset is scoped to a key's
customer through the charge its rows belong to.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from feemgmt.api.pagination import CursorPagination
from feemgmt.api.scoping import CustomerScopedMixin
from feemgmt.core.money import Money

from ..choices import AttemptStatus
from ..models import PaymentAttempt, Refund
from ..services.refunds import payment_refund, refundable
from .common import FORBIDDEN, INVALID, NOT_FOUND, REFUSED_CHANGE, validated
from .filters import PaymentAttemptFilter, RefundFilter
from .serializers import (
    PaymentAttemptDetailSerializer,
    PaymentAttemptSerializer,
    RefundSerializer,
    RefundWriteSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary=_("List payment attempts"),
        description=_("Newest first, with filters by charge, customer, status, method and day."),
        responses={200: PaymentAttemptSerializer(many=True), 400: INVALID, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=_("Get a payment attempt, with what can still be refunded of it"),
        responses={200: PaymentAttemptDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class PaymentAttemptViewSet(CustomerScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Attempts are made by collection and by customers paying, never through the
    API. The cursor walks the (created_at, id) index from the newest."""

    customer_path = "charge__contract__customer"
    serializer_class = PaymentAttemptSerializer
    filterset_class = PaymentAttemptFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-created_at", "-id")
    queryset = PaymentAttempt.objects.none()

    def get_queryset(self):
        return PaymentAttempt.objects.select_related("charge__contract")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PaymentAttemptDetailSerializer
        return PaymentAttemptSerializer

    def retrieve(self, request, *args, **kwargs):
        attempt = self.get_object()
        left = refundable(attempt) if attempt.status == AttemptStatus.SUCCEEDED else None
        return Response(PaymentAttemptDetailSerializer(attempt, context={"refundable": left}).data)


@extend_schema_view(
    list=extend_schema(
        summary=_("List refunds"),
        description=_("Newest first, with filters by attempt, charge, customer, status and day."),
        responses={200: RefundSerializer(many=True), 400: INVALID, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=_("Get a refund"),
        responses={200: RefundSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Refund (part of) a successful payment"),
        description=_(
            "The refund is recorded, then its gateway is asked at once: the answer's "
            "`status` is `succeeded`, `failed`, `manual` (bank transfer and direct "
            "debit: staff send the money and confirm it) or `pending` (the gateway did "
            "not answer; it is asked again with the same key). At most what the "
            "attempt collected less what was refunded can be refunded. 409 when the "
            "attempt did not succeed."
        ),
        request=RefundWriteSerializer,
        responses={
            201: RefundSerializer,
            400: INVALID,
            403: FORBIDDEN,
            409: REFUSED_CHANGE,
        },
    ),
)
class RefundViewSet(
    CustomerScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    customer_path = "attempt__charge__contract__customer"
    serializer_class = RefundSerializer
    filterset_class = RefundFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    queryset = Refund.objects.none()

    def get_queryset(self):
        return Refund.objects.select_related("attempt__charge__contract", "requested_by")

    def create(self, request, *args, **kwargs):
        data = validated(RefundWriteSerializer, request)
        attempt = data["attempt"]
        refund = payment_refund(
            attempt=attempt,
            amount=Money(data["amount"], attempt.amount.currency.code),
            reason=data["reason"],
            requested_by=request.user,
        )
        refund = self.get_queryset().get(pk=refund.pk)
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)
