"""Admin for webhooks: the endpoints staff set up for integrators, and the
delivery log they read when an integrator says nothing arrived.

Endpoints are written through ``webhooks.services``: a new endpoint's secret is
shown once, in the message after saving, and again only when it is rotated.
Events and deliveries are a log: read-only, sent again by the redeliver action.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from audit.admin import AuditHistoryMixin
from feemgmt.core.exceptions import BusinessError

from .choices import DeliveryStatus, EventType
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from .services.endpoints import URL_INVALID, URL_PATTERN

STATUS_LABELS = {
    DeliveryStatus.PENDING: "warning",
    DeliveryStatus.SUCCEEDED: "success",
    DeliveryStatus.FAILED: "danger",
}
EDITABLE = ("url", "description", "event_types", "active")


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("Endpoint URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        choices=EventType.choices,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )

    class Meta:
        model = WebhookEndpoint
        fields = EDITABLE

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not URL_PATTERN.fullmatch(url):
            raise forms.ValidationError(URL_INVALID)
        return url


def _secret_message(request, model_admin, endpoint, text) -> None:
    model_admin.message_user(
        request,
        format_html(
            "{} <code>{}</code>",
            text % {"url": endpoint.url},
            endpoint.secret,
        ),
        messages.WARNING,
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditHistoryMixin, ModelAdmin):
    form = EndpointForm
    list_display = ("url", "description", "types", "active", "created_by", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    list_select_related = ("created_by",)
    fields = (*EDITABLE, "created_by", "created_at", "audit_history")
    readonly_fields = ("created_by", "created_at")
    actions = ("rotate_secrets",)

    @display(description=_("event types"))
    def types(self, obj: WebhookEndpoint):
        return ", ".join(obj.event_types)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in EDITABLE}
        if change:
            saved = webhook_endpoint_update(endpoint=obj, **values)
        else:
            saved = webhook_endpoint_create(created_by=request.user, **values)
        obj.pk, obj.secret = saved.pk, saved.secret
        if not change:
            _secret_message(
                request,
                self,
                saved,
                _("The signing secret of %(url)s, shown this once (copy it now):"),
            )

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secrets(self, request, queryset):
        for endpoint in queryset:
            rotated = webhook_endpoint_rotate_secret(endpoint=endpoint)
            _secret_message(
                request,
                self,
                rotated,
                _("The new signing secret of %(url)s, shown this once (copy it now):"),
            )


class AttemptInline(TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "response_code", "duration_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ResponseCodeFilter(admin.SimpleListFilter):
    title = _("last response code")
    parameter_name = "code"

    def lookups(self, request, model_admin):
        return [
            ("2xx", _("2xx (delivered)")),
            ("4xx", _("4xx (refused)")),
            ("5xx", _("5xx (server error)")),
            ("none", _("No answer (timeout, refused)")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(attempts__gt=0, last_response_code__isnull=True)
        if value in {"2xx", "4xx", "5xx"}:
            low = int(value[0]) * 100
            return queryset.filter(last_response_code__gte=low, last_response_code__lt=low + 100)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AuditHistoryMixin, ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "event_type",
        "event_object",
        "status_label",
        "attempts",
        "last_response_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "endpoint", "event__type", ResponseCodeFilter)
    list_filter_submit = True
    search_fields = ("event__object_id", "endpoint__url")
    list_select_related = ("endpoint", "event")
    fields = (
        "endpoint",
        "event",
        "event_type",
        "event_object",
        "status_label",
        "attempts",
        "next_attempt_at",
        "give_up_at",
        "last_response_code",
        "last_error",
        "response_excerpt",
        "delivered_at",
        "payload",
        "audit_history",
    )
    readonly_fields = fields
    inlines = (AttemptInline,)
    actions = ("redeliver",)

    @display(description=_("event type"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery):
        return obj.event.get_type_display()

    @display(description=_("object"))
    def event_object(self, obj: WebhookDelivery):
        return f"{obj.event.object_type} #{obj.event.object_id}"

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_label(self, obj: WebhookDelivery):
        return obj.status, obj.get_status_display()

    @display(description=_("payload"))
    def payload(self, obj: WebhookDelivery):
        rows = sorted((obj.event.payload or {}).items())
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # the change page is read-only; the action below needs the permission
        return super().has_change_permission(request, obj) if obj is None else False

    @admin.action(description=_("Send the selected deliveries again"), permissions=["change"])
    def redeliver(self, request, queryset):
        sent, refused = 0, []
        for delivery in queryset:
            try:
                webhook_delivery_redeliver(delivery=delivery)
                sent += 1
            except BusinessError as exc:
                refused.extend(exc.messages())
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery is sent again.",
                    "%(count)d deliveries are sent again.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )
        for message in sorted(set(refused)):
            self.message_user(request, message, messages.WARNING)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ModelAdmin):
    list_display = ("id", "type", "object_type", "object_id", "occurred_at")
    list_filter = ("type",)
    search_fields = ("object_id",)
    fields = ("id", "type", "object_type", "object_id", "occurred_at", "audit_event_id", "payload")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
