"""Admin for alerts: the list finance staff work through.

Alerts are raised by the services that notice a problem, never by hand; staff
acknowledge one (taking it over) and resolve it when it is dealt with. Each
alert's page links to its audit history (raised, acknowledged, resolved).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from audit.admin import AuditHistoryMixin

from .choices import OPEN_STATUSES, AlertStatus, Severity
from .models import Alert
from .services import alerts_acknowledge, alerts_close

SEVERITY_LABELS = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.CRITICAL: "danger",
}
STATUS_LABELS = {
    AlertStatus.OPEN: "danger",
    AlertStatus.ACKNOWLEDGED: "warning",
    AlertStatus.RESOLVED: "success",
}


class OpenFilter(admin.SimpleListFilter):
    """Open and acknowledged alerts together: what still needs someone."""

    title = _("still open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "no":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


@admin.register(Alert)
class AlertAdmin(AuditHistoryMixin, ModelAdmin):
    list_display = (
        "kind",
        "severity_label",
        "subject",
        "customer",
        "status_label",
        "owner",
        "created_at",
        "resolved_at",
    )
    list_filter = (
        OpenFilter,
        "status",
        "severity",
        "kind",
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("subject", "message", "customer__code", "customer__name")
    list_select_related = ("customer", "owner")
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "severity_label",
        "subject",
        "customer",
        "message",
        "status_label",
        "owner",
        "created_at",
        "resolved_at",
        "audit_history",
    )
    readonly_fields = fields
    actions = ("acknowledge_alerts", "resolve_alerts")

    @display(description=_("severity"), ordering="severity", label=SEVERITY_LABELS)
    def severity_label(self, obj: Alert):
        return obj.severity, obj.get_severity_display()

    @display(description=_("status"), ordering="status", label=STATUS_LABELS)
    def status_label(self, obj: Alert):
        return obj.status, obj.get_status_display()

    # Alerts come from the services that notice problems; the actions below are
    # the only changes staff make.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.action(description=_("Acknowledge selected alerts"), permissions=["change"])
    def acknowledge_alerts(self, request, queryset):
        count = alerts_acknowledge(queryset, by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d alert acknowledged.", "%(count)d alerts acknowledged.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.action(description=_("Resolve selected alerts"), permissions=["change"])
    def resolve_alerts(self, request, queryset):
        count = alerts_close(queryset)
        self.message_user(
            request,
            ngettext("%(count)d alert resolved.", "%(count)d alerts resolved.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
