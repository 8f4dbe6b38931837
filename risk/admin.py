"""The risk rules in the admin: what each looks for, whether it is on, its
severity and its thresholds. Only someone who may change risk rules (the finance
manager role) can edit them; every change goes through risk_rule_update and is in
the audit trail. Rules are defined in code: none is added or deleted here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.decorators import display

from alerts.admin import SEVERITY_LABELS
from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_forms import ServiceFormAdminMixin, ServiceModelForm, ServiceRefused
from feemgmt.core.exceptions import BusinessError

from .models import RiskRule
from .rules import RULES
from .services import RULE_FIELDS, risk_rule_reset, risk_rule_update

THRESHOLDS = ("count", "days", "percent")


class RiskRuleForm(ServiceModelForm):
    class Meta:
        model = RiskRule
        fields = ("enabled", "severity", *THRESHOLDS)


@admin.register(RiskRule)
class RiskRuleAdmin(AuditHistoryMixin, ServiceFormAdminMixin, ModelAdmin):
    form = RiskRuleForm
    list_display = (
        "code",
        "what_it_looks_for",
        "enabled",
        "severity_label",
        "thresholds",
        "updated_by",
        "updated_at",
    )
    list_display_links = ("code",)
    list_filter = ("enabled", "severity")
    actions = ("restore_defaults",)
    ordering = ("id",)

    @display(description=_("what it looks for"))
    def what_it_looks_for(self, obj: RiskRule):
        rule = RULES.get(obj.code)
        return rule.description if rule else "-"

    @display(description=_("severity"), ordering="severity", label=SEVERITY_LABELS)
    def severity_label(self, obj: RiskRule):
        return obj.severity, obj.get_severity_display()

    @display(description=_("thresholds"))
    def thresholds(self, obj: RiskRule):
        rule = RULES.get(obj.code)
        if rule is None or not rule.thresholds:
            return "-"
        labels = {
            "count": _("N: %s"),
            "days": _("N: %s days"),
            "percent": _("X: %s%%"),
        }
        return ", ".join(
            str(labels[name]) % (getattr(obj, name) if getattr(obj, name) is not None else "-")
            for name in rule.thresholds
        )

    def get_fields(self, request, obj=None):
        used = RULES[obj.code].thresholds if obj is not None and obj.code in RULES else ()
        return (
            "code",
            "what_it_looks_for",
            "enabled",
            "severity",
            *[name for name in THRESHOLDS if name in used],
            "updated_by",
            "updated_at",
            "audit_history",
        )

    def get_readonly_fields(self, request, obj=None):
        return ("code", "what_it_looks_for", "updated_by", "updated_at", "audit_history")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        values = {
            name: form.cleaned_data[name] for name in RULE_FIELDS if name in form.cleaned_data
        }
        try:
            saved = risk_rule_update(rule=obj, by=request.user, **values)
        except BusinessError as error:
            raise ServiceRefused(error) from error
        self._copy_saved(obj, saved)

    @admin.action(description=_("Restore the default settings"), permissions=["change"])
    def restore_defaults(self, request, queryset):
        count = 0
        for rule in queryset:
            risk_rule_reset(rule=rule, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d rule set back to its defaults.",
                "%(count)d rules set back to their defaults.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
