"""The message logs support reads: gateway notifications and customer notices."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from ..models import (
    InboundNotification,
    SentNotice,
)
from .common import (
    ReadOnlyAdmin,
    pretty_json,
)

# --- Message logs (support) ----------------------------------------------------------


@admin.register(InboundNotification)
class InboundNotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "method",
        "accepted",
        "reason",
        "idempotency_key",
        "provider_reference",
        "attempt",
    )
    list_filter = ("accepted", "method", "reason", ("received_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = ("idempotency_key", "provider_reference")
    list_select_related = ("attempt",)
    date_hierarchy = "received_at"
    fields = (
        "received_at",
        "method",
        "accepted",
        "reason",
        "idempotency_key",
        "provider_reference",
        "attempt",
        "raw_pretty",
    )
    readonly_fields = ("received_at", "raw_pretty")

    @display(description=_("content"))
    def raw_pretty(self, obj: InboundNotification):
        return pretty_json(obj.raw)


@admin.register(SentNotice)
class SentNoticeAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "key", "customer", "recipient", "subject")
    list_filter = ("kind", ("sent_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = ("key", "recipient", "subject", "customer__code", "customer__name")
    list_select_related = ("customer",)
    date_hierarchy = "sent_at"
