"""Refunds and write-off requests: read-only, changed by actions that call the
services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from audit.admin import AuditHistoryMixin

from ..models import (
    Refund,
    WriteOffRequest,
)
from ..services.refunds import refund_confirm_manual, refund_send
from ..services.staff import (
    write_off_approve,
    write_off_reject,
)
from .common import (
    APPROVAL_LABELS,
    REFUND_LABELS,
    ReadOnlyAdmin,
    apply_each,
    pretty_json,
    text_action,
)

# --- Refunds ------------------------------------------------------------------------


@admin.register(Refund)
class RefundAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    list_display = (
        "idempotency_key",
        "attempt",
        "customer",
        "amount",
        "status_label",
        "reason",
        "provider_reference",
        "error_message",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", ("created_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = (
        "idempotency_key",
        "provider_reference",
        "attempt__idempotency_key",
        "attempt__charge__contract__number",
        "attempt__charge__contract__customer__code",
        "attempt__charge__contract__customer__name",
    )
    list_select_related = ("attempt__charge__contract__customer", "requested_by")
    readonly_fields = ("customer", "status_label", "raw_pretty")
    fields = (
        "attempt",
        "customer",
        "number",
        "idempotency_key",
        "amount",
        "reason",
        "status_label",
        "provider_reference",
        "error_code",
        "error_message",
        "requested_by",
        "raw_pretty",
        "audit_history",
    )
    actions = ("confirm_manual_transfer", "send_again")

    @display(description=_("customer"), ordering="attempt__charge__contract__customer__code")
    def customer(self, obj: Refund):
        return obj.attempt.charge.contract.customer

    @display(description=_("status"), ordering="status", label=REFUND_LABELS)
    def status_label(self, obj: Refund):
        return obj.status, obj.get_status_display()

    @display(description=_("gateway exchange"))
    def raw_pretty(self, obj: Refund):
        return pretty_json(obj.raw)

    def has_confirm_permission(self, request):
        return request.user.has_perm("payments.change_refund")

    @admin.action(description=_("Confirm manual transfer"), permissions=["confirm"])
    def confirm_manual_transfer(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.order_by("id"),
            lambda refund: refund_confirm_manual(refund=refund),
            lambda n: ngettext("%(count)d refund confirmed.", "%(count)d refunds confirmed.", n),
        )

    @admin.action(description=_("Ask the gateway again"), permissions=["confirm"])
    def send_again(self, request, queryset):
        """A refund left in progress by a timeout: the same key again, refunded once."""
        apply_each(
            self,
            request,
            queryset.order_by("id"),
            lambda refund: refund_send(refund=refund),
            lambda n: ngettext("%(count)d refund sent again.", "%(count)d refunds sent again.", n),
        )


# --- Write-off requests ----------------------------------------------------------


@admin.register(WriteOffRequest)
class WriteOffRequestAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    list_display = (
        "charge",
        "customer",
        "amount",
        "reason",
        "status_label",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    list_filter = ("status", ("requested_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = (
        "charge__contract__number",
        "charge__contract__customer__code",
        "charge__contract__customer__name",
        "reason",
    )
    list_select_related = ("charge__contract__customer", "requested_by", "decided_by")
    readonly_fields = ("customer", "status_label", "requested_at")
    fields = (
        "charge",
        "customer",
        "amount",
        "reason",
        "status_label",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "audit_history",
    )
    actions = ("approve_requests", "reject_requests")

    @display(description=_("customer"), ordering="charge__contract__customer__code")
    def customer(self, obj: WriteOffRequest):
        return obj.charge.contract.customer

    @display(description=_("status"), ordering="status", label=APPROVAL_LABELS)
    def status_label(self, obj: WriteOffRequest):
        return obj.status, obj.get_status_display()

    # Whoever sees the requests may try to decide; the service refuses the requester
    # and anyone without the approval permission, and says why.
    def has_decide_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(description=_("Approve selected write-offs"), permissions=["decide"])
    def approve_requests(self, request, queryset):
        return text_action(
            self,
            request,
            queryset.select_related("charge__contract__customer").order_by("id"),
            action_name="approve_requests",
            title=_("Approve write-offs"),
            label=_("decision note"),
            required=False,
            help_text=_("The charges are written off: nothing more is collected."),
            apply=lambda obj, note: write_off_approve(
                request=obj, approved_by=request.user, note=note
            ),
            done_message=lambda n: ngettext(
                "%(count)d write-off approved.", "%(count)d write-offs approved.", n
            ),
        )

    @admin.action(description=_("Reject selected write-offs"), permissions=["decide"])
    def reject_requests(self, request, queryset):
        return text_action(
            self,
            request,
            queryset.select_related("charge__contract__customer").order_by("id"),
            action_name="reject_requests",
            title=_("Reject write-offs"),
            label=_("decision note"),
            required=False,
            help_text=_("Collection of the charges goes on as before."),
            apply=lambda obj, note: write_off_reject(
                request=obj, rejected_by=request.user, note=note
            ),
            done_message=lambda n: ngettext(
                "%(count)d write-off rejected.", "%(count)d write-offs rejected.", n
            ),
        )
