"""Admin for alerts: the list finance staff work through.

Alerts are raised by the services and risk rules that notice a problem, never by
hand; staff acknowledge one (taking it over), hand it to a colleague, snooze it
until a date, and resolve it when it is dealt with. Each alert's page links to
its audit history (raised, acknowledged, assigned, snoozed, resolved).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminDateWidget, UnfoldAdminSelectWidget

from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_actions import form_action
from feemgmt.core.admin_export import ExportAdminMixin
from feemgmt.core.exceptions import BusinessError

from .choices import OPEN_STATUSES, AlertStatus, Severity
from .models import Alert
from .resources import AlertResource
from .services import alerts_acknowledge, alerts_assign, alerts_close, alerts_snooze

SEVERITY_LABELS = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.CRITICAL: "danger",
}
STATUS_LABELS = {
    AlertStatus.OPEN: "danger",
    AlertStatus.ACKNOWLEDGED: "warning",
    AlertStatus.SNOOZED: "info",
    AlertStatus.RESOLVED: "success",
}


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=UnfoldAdminDateWidget)

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.localdate():
            raise forms.ValidationError(_("Choose a later day."))
        return until


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=get_user_model()._default_manager.none(),
        required=False,
        empty_label=_("No one"),
        widget=UnfoldAdminSelectWidget,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model()
            ._default_manager.filter(is_active=True, is_staff=True)
            .order_by("username")
        )


class MineFilter(admin.SimpleListFilter):
    """The alerts the signed-in user owns."""

    title = _("owner")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", _("Mine")), ("nobody", _("No one"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(owner=request.user)
        if self.value() == "nobody":
            return queryset.filter(owner__isnull=True)
        return queryset


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
class AlertAdmin(ExportAdminMixin, AuditHistoryMixin, ModelAdmin):
    resource_classes = (AlertResource,)
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
        MineFilter,
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
        "snoozed_until",
        "created_at",
        "notified_at",
        "resolved_at",
        "audit_history",
    )
    readonly_fields = fields
    actions = ("acknowledge_alerts", "assign_alerts", "snooze_alerts", "resolve_alerts")

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

    @admin.action(description=_("Assign selected alerts"), permissions=["change"])
    def assign_alerts(self, request, queryset):
        def assign(form):
            count = alerts_assign(queryset, owner=form.cleaned_data["owner"])
            self.message_user(
                request,
                ngettext("%(count)d alert assigned.", "%(count)d alerts assigned.", count)
                % {"count": count},
                messages.SUCCESS if count else messages.WARNING,
            )

        return form_action(
            self,
            request,
            queryset,
            action_name="assign_alerts",
            title=_("Assign alerts"),
            form=AssignForm,
            apply=assign,
        )

    @admin.action(description=_("Snooze selected alerts"), permissions=["change"])
    def snooze_alerts(self, request, queryset):
        def snooze(form):
            try:
                count = alerts_snooze(queryset, until=form.cleaned_data["until"], by=request.user)
            except BusinessError as exc:
                self.message_user(request, " ".join(exc.messages()), messages.ERROR)
                return
            self.message_user(
                request,
                ngettext("%(count)d alert snoozed.", "%(count)d alerts snoozed.", count)
                % {"count": count},
                messages.SUCCESS if count else messages.WARNING,
            )

        def initial_form(*args):
            return SnoozeForm(*args, initial={"until": timezone.localdate() + dt.timedelta(days=7)})

        return form_action(
            self,
            request,
            queryset,
            action_name="snooze_alerts",
            title=_("Snooze alerts"),
            form=initial_form,
            apply=snooze,
        )
