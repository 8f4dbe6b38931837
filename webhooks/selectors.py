"""Webhook reads shared by the admin and the API."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("created_by").order_by("id")


def delivery_list() -> QuerySet[WebhookDelivery]:
    """Deliveries with their event (type, object) in the same query."""
    return WebhookDelivery.objects.select_related("event")


def delivery_detail() -> QuerySet[WebhookDelivery]:
    return delivery_list().prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("attempted_at", "id"))
    )
