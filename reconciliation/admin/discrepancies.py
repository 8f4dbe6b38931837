"""Discrepancies: read-only records, resolved by the list's actions, each one a
service of reconciliation.services.discrepancies (the same the API calls)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import action, display

from audit.admin import AuditHistoryMixin
from feemgmt.core.exceptions import BusinessError
from payments.admin import ReadOnlyAdmin, text_action

from ..choices import DiscrepancyStatus
from ..models import Discrepancy
from ..services import discrepancies as services
from .common import DISCREPANCY_LABELS

RESOLVE_PERMISSION = "reconciliation.change_discrepancy"


def assign_by_number(*, discrepancy: Discrepancy, by, note: str) -> Discrepancy:
    """*Assign* asks for the charge's number in place of a note."""
    try:
        charge_id = int(note.strip().lstrip("#"))
    except ValueError:
        raise BusinessError({"charge": [_("Give the charge's number, e.g. 1234.")]}) from None
    return services.discrepancy_assign(discrepancy=discrepancy, charge_id=charge_id, by=by)


def resolution(name, title, service, done, *, label=None):
    """A list action resolving the selected open discrepancies through ``service``,
    after asking for its one text (a note, unless ``label`` says otherwise)."""

    @action(description=title, permissions=["resolve"])
    def apply(model_admin, request, queryset):
        return text_action(
            model_admin,
            request,
            queryset.filter(status=DiscrepancyStatus.OPEN).order_by("pk"),
            action_name=name,
            title=title,
            label=label or _("Note"),
            apply=lambda discrepancy, text: service(
                discrepancy=discrepancy, by=request.user, note=text
            ),
            done_message=done,
        )

    apply.__name__ = name
    return apply


@admin.register(Discrepancy)
class DiscrepancyAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    list_display = (
        "kind",
        "status_label",
        "account",
        "line",
        "charge",
        "amount",
        "message_short",
        "created_at",
    )
    list_filter = ("kind", "status", "account")
    list_select_related = ("account", "line", "charge__contract")
    search_fields = ("message", "line__reference", "line__narrative", "charge__contract__number")
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "status_label",
        "account",
        "line",
        "charge",
        "amount",
        "message",
        "resolution",
        "resolved_by",
        "resolved_at",
        "write_off",
        "refund",
        "created_at",
        "audit_history",
    )
    readonly_fields = ("status_label", "created_at")

    @display(description=_("status"), ordering="status", label=DISCREPANCY_LABELS)
    def status_label(self, obj: Discrepancy):
        return obj.status, obj.get_status_display()

    @display(description=_("what is wrong"))
    def message_short(self, obj: Discrepancy) -> str:
        return Truncator(obj.message).chars(120)

    # --- Resolving ------------------------------------------------------------------

    actions = (
        "resolve_with_note",
        "waive",
        "mark_not_ours",
        "assign_to_charge",
        "refund_excess",
        "ask_write_off",
        "approve_write_off",
    )

    def has_resolve_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(RESOLVE_PERMISSION)

    resolve_with_note = resolution(
        "resolve_with_note",
        _("Resolve with a note"),
        services.discrepancy_resolve,
        lambda n: ngettext(
            "%(count)d discrepancy resolved.", "%(count)d discrepancies resolved.", n
        ),
    )
    waive = resolution(
        "waive",
        _("Waive (accept as it is)"),
        services.discrepancy_waive,
        lambda n: ngettext("%(count)d discrepancy waived.", "%(count)d discrepancies waived.", n),
    )
    mark_not_ours = resolution(
        "mark_not_ours",
        _("Mark the line as not ours"),
        services.discrepancy_mark_not_ours,
        lambda n: ngettext(
            "%(count)d line marked not ours.", "%(count)d lines marked not ours.", n
        ),
    )
    assign_to_charge = resolution(
        "assign_to_charge",
        _("Assign the line to a charge"),
        assign_by_number,
        lambda n: ngettext("%(count)d line assigned.", "%(count)d lines assigned.", n),
        label=_("Charge number"),
    )
    refund_excess = resolution(
        "refund_excess",
        _("Refund the excess"),
        services.discrepancy_refund_excess,
        lambda n: ngettext("%(count)d refund requested.", "%(count)d refunds requested.", n),
        label=_("Why the money is refunded"),
    )
    ask_write_off = resolution(
        "ask_write_off",
        _("Ask to write off the rest"),
        services.discrepancy_write_off_request,
        lambda n: ngettext("%(count)d write-off asked for.", "%(count)d write-offs asked for.", n),
        label=_("Reason"),
    )
    approve_write_off = resolution(
        "approve_write_off",
        _("Approve the write-off"),
        services.discrepancy_write_off_approve,
        lambda n: ngettext("%(count)d write-off approved.", "%(count)d write-offs approved.", n),
        label=_("Decision note"),
    )
