"""Matches: a clerk confirms or rejects the suggestions, through the matching
service."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import action, display

from audit.admin import AuditHistoryMixin
from payments.admin import ReadOnlyAdmin, apply_each

from ..choices import MatchStatus
from ..models import Match
from ..services import match_confirm, match_reject
from .common import DECIDE_PERMISSION, MATCH_LABELS, reasons_html


class SuggestionFilter(admin.SimpleListFilter):
    """Suggestions waiting for a clerk come first; the rest on request."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*MatchStatus.choices, ("all", _("All"))]

    def choices(self, changelist):
        # "All" is a real choice here: without a value the list shows suggestions.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or MatchStatus.SUGGESTED) == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or MatchStatus.SUGGESTED
        if value == "all":
            return queryset
        return queryset.filter(status=value)


@admin.register(Match)
class MatchAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    list_display = (
        "line",
        "booked_on",
        "line_amount",
        "payer",
        "charge",
        "customer",
        "method",
        "status_label",
        "score",
        "reasons_list",
        "effect",
        "decided_by",
        "decided_at",
    )
    list_filter = (SuggestionFilter, "method", "effect")
    list_select_related = ("line", "charge__contract__customer", "decided_by")
    search_fields = (
        "line__reference",
        "line__narrative",
        "line__counterparty_name",
        "charge__contract__number",
        "charge__contract__customer__name",
        "attempt__idempotency_key",
    )
    fields = (
        "line",
        "charge",
        "attempt",
        "refund",
        "method",
        "status_label",
        "effect",
        "score",
        "reasons_list",
        "decided_by",
        "decided_at",
        "created_at",
        "audit_history",
    )
    readonly_fields = ("status_label", "reasons_list", "created_at")
    actions = ("confirm_matches", "reject_matches")

    @display(description=_("booked on"), ordering="line__booked_on")
    def booked_on(self, obj: Match):
        return obj.line.booked_on

    @display(description=_("amount"), ordering="line__amount")
    def line_amount(self, obj: Match):
        return obj.line.amount

    @display(description=_("payer / payee"))
    def payer(self, obj: Match):
        return obj.line.counterparty_name or "—"

    @display(description=_("customer"), ordering="charge__contract__customer__name")
    def customer(self, obj: Match):
        return obj.charge.contract.customer if obj.charge_id else "—"

    @display(description=_("status"), ordering="status", label=MATCH_LABELS)
    def status_label(self, obj: Match):
        return obj.status, obj.get_status_display()

    @display(description=_("reasons"))
    def reasons_list(self, obj: Match):
        return reasons_html(obj.reasons)

    def lookup_allowed(self, lookup, value, request=None):
        # The import result links to the suggestions of the statement just imported.
        if lookup == "line__statement__id__exact":
            return True
        return super().lookup_allowed(lookup, value, request)

    def has_decide_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(DECIDE_PERMISSION)

    @action(description=_("Confirm the selected suggestions"), permissions=["decide"])
    def confirm_matches(self, request, queryset):
        """Each selected suggestion books its line against the charge (the service
        rejects the line's other suggestions); a refusal is reported per match."""
        apply_each(
            self,
            request,
            queryset.order_by("pk"),
            lambda match: match_confirm(match=match, by=request.user),
            lambda n: ngettext("%(count)d match confirmed.", "%(count)d matches confirmed.", n),
        )

    @action(description=_("Reject the selected suggestions"), permissions=["decide"])
    def reject_matches(self, request, queryset):
        """A line left with no suggestion becomes an unmatched-line discrepancy."""
        apply_each(
            self,
            request,
            queryset.order_by("pk"),
            lambda match: match_reject(match=match, by=request.user),
            lambda n: ngettext("%(count)d match rejected.", "%(count)d matches rejected.", n),
        )
