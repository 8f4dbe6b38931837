"""Webhook endpoints and their delivery log over the API.

Endpoints are created, changed and deleted through ``webhooks.services``; the
secret is in the answer of a creation and of ``rotate-secret/`` only. Deliveries
are a log: listed newest first by cursor, read with their attempts, and sent
again by ``redeliver/``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from feemgmt.api.pagination import CursorPagination, PageNumberPagination
from feemgmt.api.permissions import IsStaffWithModelPermissions

from .. import selectors, services
from ..filters import DeliveryFilter
from .serializers import (
    WebhookDeliveryDetailSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
    WebhookEndpointWriteSerializer,
)

INVALID = OpenApiResponse(description=_("Invalid input or filter: a message per field."))
FORBIDDEN = OpenApiResponse(
    description=_("Not signed in as staff, or without the permission this needs.")
)
NOT_FOUND = OpenApiResponse(description=_("No object has this id."))
NO_PAGE = OpenApiResponse(description=_("No page has this number."))
STILL_PENDING = OpenApiResponse(
    description=_("The delivery is still being tried: it is sent again on its own.")
)


class CanChange(IsStaffWithModelPermissions):
    """Rotating a secret and redelivering change the row: ``change_*``, not the
    ``add_*`` a plain POST asks for."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }


def _validated(request, *, partial: bool = False) -> dict:
    serializer = WebhookEndpointWriteSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(
        summary=_("List webhook endpoints"),
        responses={
            200: WebhookEndpointSerializer(many=True),
            400: INVALID,
            403: FORBIDDEN,
            404: NO_PAGE,
        },
    ),
    retrieve=extend_schema(
        summary=_("Get a webhook endpoint"),
        responses={200: WebhookEndpointSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Create a webhook endpoint"),
        description=_(
            "The answer holds the endpoint's signing secret, shown this once: keep it "
            "where the receiver can read it."
        ),
        request=WebhookEndpointWriteSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, 400: INVALID, 403: FORBIDDEN},
    ),
    update=extend_schema(
        summary=_("Replace a webhook endpoint's settings"),
        request=WebhookEndpointWriteSerializer,
        responses={
            200: WebhookEndpointSerializer,
            400: INVALID,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
    partial_update=extend_schema(
        summary=_("Change some of a webhook endpoint's settings"),
        request=WebhookEndpointWriteSerializer,
        responses={
            200: WebhookEndpointSerializer,
            400: INVALID,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
    destroy=extend_schema(
        summary=_("Delete a webhook endpoint and its delivery log"),
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WebhookEndpointSerializer
    pagination_class = PageNumberPagination  # a handful per integrator
    filterset_fields = ["active"]

    def get_queryset(self):
        return selectors.endpoint_list()

    def create(self, request, *args, **kwargs):
        endpoint = services.webhook_endpoint_create(**_validated(request), created_by=request.user)
        data = WebhookEndpointWithSecretSerializer(endpoint).data
        return Response(data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        endpoint = self.get_object()
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint, **_validated(request, partial=partial)
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(
        summary=_("Give a webhook endpoint a new signing secret"),
        description=_(
            "Every delivery from now on is signed with the new secret, shown in this "
            "answer only; the old one stops working at once."
        ),
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", permission_classes=[CanChange])
    def rotate_secret(self, request, pk=None):
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


@extend_schema_view(
    list=extend_schema(
        summary=_("List webhook deliveries"),
        description=_("Newest first, with the filters the delivery log is searched by."),
        responses={200: WebhookDeliverySerializer(many=True), 400: INVALID, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=_("Get a webhook delivery with its attempts"),
        responses={200: WebhookDeliveryDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WebhookDeliverySerializer
    filterset_class = DeliveryFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first

    def get_queryset(self):
        if self.action == "list":
            return selectors.delivery_list()
        return selectors.delivery_detail()

    def get_serializer_class(self):
        if self.action == "list":
            return WebhookDeliverySerializer
        return WebhookDeliveryDetailSerializer

    @extend_schema(
        summary=_("Send a webhook delivery again"),
        description=_(
            "A succeeded or given-up delivery is sent again now, with a new 24 hours "
            "of retries; the answer is the delivery, queued."
        ),
        request=None,
        responses={
            202: WebhookDeliveryDetailSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: STILL_PENDING,
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChange])
    def redeliver(self, request, pk=None):
        delivery = services.webhook_delivery_redeliver(delivery=self.get_object())
        delivery = selectors.delivery_detail().get(pk=delivery.pk)
        return Response(
            WebhookDeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
