"""Deposit releases: asked for on a page that shows what the release would do,
approved or rejected by someone else through the list's actions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminTextInputWidget

from audit.admin import AuditHistoryMixin
from billing.models import Charge
from contracts.models import Contract
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money_label

from ..models import DepositRelease
from ..selectors import deposit_release_plan
from ..services.deposits import (
    deposit_release_approve,
    deposit_release_reject,
    deposit_release_request,
)
from .common import APPROVAL_LABELS, ReadOnlyAdmin, service_error_text, text_action

ASK_TEMPLATE = "admin/payments/depositrelease/ask.html"


class AskReleaseForm(forms.Form):
    contract = forms.CharField(
        label=_("contract number"), max_length=32, widget=UnfoldAdminTextInputWidget
    )
    reason = forms.CharField(label=_("reason"), max_length=200, widget=UnfoldAdminTextInputWidget)

    def clean_contract(self):
        number = self.cleaned_data["contract"].strip()
        contract = Contract.objects.select_related("customer").filter(number=number).first()
        if contract is None:
            raise forms.ValidationError(
                gettext("No contract has the number %(n)s.") % {"n": number}
            )
        return contract


@admin.register(DepositRelease)
class DepositReleaseAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    list_display = (
        "contract",
        "customer",
        "held",
        "applied",
        "refunded",
        "status_label",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", ("requested_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = ("contract__number", "contract__customer__code", "contract__customer__name")
    list_select_related = ("contract__customer", "requested_by", "decided_by")
    readonly_fields = ("customer", "status_label", "plan_table", "requested_at")
    fields = (
        "contract",
        "customer",
        "held",
        "applied",
        "plan_table",
        "refunded",
        "refunds",
        "reason",
        "status_label",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "audit_history",
    )
    actions = ("approve_releases", "reject_releases")
    actions_list = ("ask_release",)

    @display(description=_("customer"), ordering="contract__customer__code")
    def customer(self, obj: DepositRelease):
        return obj.contract.customer

    @display(description=_("status"), ordering="status", label=APPROVAL_LABELS)
    def status_label(self, obj: DepositRelease):
        return obj.status, obj.get_status_display()

    @display(description=_("charges paid from the deposit"))
    def plan_table(self, obj: DepositRelease):
        if not obj.plan:
            return "—"
        charges = Charge.objects.in_bulk([item["charge"] for item in obj.plan])
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {} {}</li>",
                (
                    (charges.get(item["charge"], item["charge"]), item["amount"], obj.held_currency)
                    for item in obj.plan
                ),
            ),
        )

    def has_ask_permission(self, request):
        return request.user.has_perm("payments.add_depositrelease")

    @action(description=_("Ask to release a deposit…"), url_path="ask", permissions=["ask"])
    def ask_release(self, request):
        """GET: the contract and reason. POST: the plan shown; confirmed: asked."""
        if not self.has_ask_permission(request):
            raise PermissionDenied
        plan = None
        form = AskReleaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            contract = form.cleaned_data["contract"]
            if "confirm" in request.POST:
                try:
                    release = deposit_release_request(
                        contract=contract,
                        requested_by=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except BusinessError as exc:
                    form.add_error(None, service_error_text(exc))
                else:
                    self.message_user(
                        request,
                        gettext("The release of %(held)s is awaiting a second person's approval.")
                        % {"held": money_label(release.held)},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:payments_depositrelease_change", args=(release.pk,))
                    )
            plan = deposit_release_plan(contract, on=timezone.localdate())
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Ask to release a deposit"),
            "opts": self.opts,
            "form": form,
            "plan": plan,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, ASK_TEMPLATE, context)

    # Whoever sees the releases may try to decide; the service refuses the requester
    # and anyone without the approval permission, and says why.
    def has_decide_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(description=_("Approve selected deposit releases"), permissions=["decide"])
    def approve_releases(self, request, queryset):
        return text_action(
            self,
            request,
            queryset.select_related("contract").order_by("id"),
            action_name="approve_releases",
            title=_("Approve deposit releases"),
            label=_("decision note"),
            required=False,
            help_text=_(
                "The deposits pay the charges listed and the rest is refunded to the customer."
            ),
            apply=lambda obj, note: deposit_release_approve(
                release=obj, approved_by=request.user, note=note
            ),
            done_message=lambda n: ngettext(
                "%(count)d deposit release approved.", "%(count)d deposit releases approved.", n
            ),
        )

    @admin.action(description=_("Reject selected deposit releases"), permissions=["decide"])
    def reject_releases(self, request, queryset):
        return text_action(
            self,
            request,
            queryset.select_related("contract").order_by("id"),
            action_name="reject_releases",
            title=_("Reject deposit releases"),
            label=_("decision note"),
            required=False,
            help_text=_("The deposits stay held; a release may be asked for again."),
            apply=lambda obj, note: deposit_release_reject(
                release=obj, rejected_by=request.user, note=note
            ),
            done_message=lambda n: ngettext(
                "%(count)d deposit release rejected.", "%(count)d deposit releases rejected.", n
            ),
        )
