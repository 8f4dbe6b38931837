"""Reconciliation runs: listed and shown read-only (runs are prepared through the
service, from the API or the demo), signed off by a second person, and reopened
with a reason. Both actions call reconciliation.services.runs, which checks the
permission, the maker-checker rule and the run's state machine, and refuses with a
message shown here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import display

from audit.admin import AuditHistoryMixin
from payments.admin import ReadOnlyAdmin, apply_each, text_action

from ..models import ReconciliationRun
from ..services.runs import (
    REOPEN_PERMISSION,
    SIGN_OFF_PERMISSION,
    reconciliation_run_reopen,
    reconciliation_run_sign_off,
)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    list_display = (
        "account",
        "period",
        "status",
        "statement_total",
        "ledger_total",
        "difference",
        "open_discrepancies",
        "prepared_by",
        "signed_off_by",
    )
    list_filter = ("status", "account")
    list_select_related = ("account", "prepared_by", "signed_off_by")
    date_hierarchy = "period_end"
    fieldsets = (
        (None, {"fields": ("account", "period_start", "period_end", "status", "currency")}),
        (
            _("Figures"),
            {
                "fields": (
                    "opening_balance",
                    "closing_balance",
                    "statement_total",
                    "ledger_total",
                    "difference",
                    "lines",
                    "open_discrepancies",
                )
            },
        ),
        (
            _("Sign-off"),
            {
                "fields": (
                    "prepared_by",
                    "prepared_at",
                    "signed_off_by",
                    "signed_off_at",
                    "reopened_by",
                    "reopen_reason",
                    "audit_history",
                )
            },
        ),
    )
    actions = ("sign_off_runs", "reopen_runs")

    @display(description=_("period"), ordering="period_end")
    def period(self, obj: ReconciliationRun) -> str:
        return f"{obj.period_start.isoformat()}–{obj.period_end.isoformat()}"

    # Who may try; the service decides (and says why it refuses).
    def has_sign_off_permission(self, request):
        return request.user.has_perm(SIGN_OFF_PERMISSION)

    def has_reopen_permission(self, request):
        return request.user.has_perm(REOPEN_PERMISSION)

    @admin.action(description=_("Sign off selected runs"), permissions=["sign_off"])
    def sign_off_runs(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.select_related("account").order_by("id"),
            lambda run: reconciliation_run_sign_off(run=run, by=request.user),
            lambda n: ngettext("%(count)d run signed off.", "%(count)d runs signed off.", n),
        )

    @admin.action(description=_("Reopen selected runs"), permissions=["reopen"])
    def reopen_runs(self, request, queryset):
        return text_action(
            self,
            request,
            queryset.select_related("account").order_by("id"),
            action_name="reopen_runs",
            title=_("Reopen reconciliation runs"),
            label=_("reason for reopening"),
            help_text=_("The runs are prepared again from the current figures."),
            apply=lambda run, reason: reconciliation_run_reopen(
                run=run, by=request.user, reason=reason
            ),
            done_message=lambda n: ngettext(
                "%(count)d run reopened.", "%(count)d runs reopened.", n
            ),
        )
