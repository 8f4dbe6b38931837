"""Fee amendments in the admin: propose (contract, then fee and amount), approve,
reject, withdraw, record a paper decision, and the decision's proof. Every write
goes through billing.services.amendments; nothing here edits a fee."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline
from unfold.contrib.filters.admin import RangeDateFilter

from audit.admin import AuditHistoryMixin
from contracts.choices import FeeKind
from contracts.models import Contract
from feemgmt.core.admin_forms import add_business_error
from feemgmt.core.exceptions import BusinessError

from ..choices import AmendmentStatus
from ..forms import AmendmentContractForm, AmendmentPaperForm, AmendmentProposeForm
from ..models import AmendmentDecision, FeeAmendment
from ..services.amendments import (
    AMENDABLE_CONTRACTS,
    amendment_approve,
    amendment_propose,
    amendment_record_paper,
    amendment_reject,
    amendment_withdraw,
)

FORM_TEMPLATE = "admin/billing/feeamendment/form_page.html"
APPROVE = "billing.approve_feeamendment"
RECORD = "billing.record_decision_feeamendment"


class DecisionInline(StackedInline):
    model = AmendmentDecision
    can_delete = False
    extra = 0
    fields = (
        "consented",
        "channel",
        "user",
        "decided_at",
        "ip",
        "user_agent",
        "text_shown",
        "terms_shown",
        "comment",
        "document_link",
        "document_sha256",
    )
    readonly_fields = fields

    @admin.display(description=_("signed document"))
    def document_link(self, obj):
        if not obj.document:
            return "—"
        url = reverse("admin:billing_feeamendment_document", args=[obj.amendment_id])
        return format_html('<a href="{}">{}</a>', url, obj.document.name.rsplit("/", 1)[-1])

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FeeAmendment)
class FeeAmendmentAdmin(AuditHistoryMixin, ModelAdmin):
    list_display = (
        "id",
        "contract",
        "fee",
        "old_amount",
        "new_amount",
        "effective_from",
        "status",
        "proposed_by",
        "approved_by",
    )
    list_filter = ("status", ("effective_from", RangeDateFilter))
    search_fields = ("contract__number", "contract__customer__name", "contract__customer__code")
    list_select_related = ("contract", "fee", "proposed_by", "approved_by")
    readonly_fields = (
        "contract",
        "fee",
        "old_amount",
        "new_amount",
        "effective_from",
        "reason",
        "status",
        "proposed_by",
        "created_at",
        "approved_by",
        "approved_at",
        "decided_at",
        "notified_at",
    )
    fields = readonly_fields
    inlines = [DecisionInline]
    actions = ["approve_amendments", "reject_amendments", "withdraw_amendments"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False  # every change is an action calling its service

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE)

    def has_record_permission(self, request):
        return request.user.has_perm(RECORD)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/decision/", wrap(self.decision_view), name=f"{prefix}_decision"),
            path("<int:object_id>/document/", wrap(self.document_view), name=f"{prefix}_document"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        amendment = self.get_object(request, object_id)
        if (
            amendment is not None
            and amendment.status == AmendmentStatus.SENT
            and self.has_record_permission(request)
        ):
            extra_context["decision_url"] = reverse(
                "admin:billing_feeamendment_decision", args=[amendment.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- proposing ------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """Two steps on one page: the contract, then the fee, amount, date and reason."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        number = (request.POST.get("contract") or request.GET.get("contract") or "").strip()
        contract = (
            Contract.objects.filter(number=number, status__in=AMENDABLE_CONTRACTS).first()
            if number
            else None
        )
        if contract is None:
            form = AmendmentContractForm(request.GET or None)
            if number:
                form.add_error("contract", gettext("No signed or active contract has this number."))
            return self._page(request, form, title=gettext("Propose a fee change"), method="get")
        fees = list(contract.fees.filter(kind=FeeKind.RECURRING).order_by("pk"))
        form = AmendmentProposeForm(request.POST if "fee" in request.POST else None, fees=fees)
        if form.is_bound and form.is_valid():
            try:
                amendment = amendment_propose(
                    fee=form.fees[form.cleaned_data["fee"]],
                    new_amount=form.cleaned_data["new_amount"],
                    effective_from=form.cleaned_data["effective_from"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except BusinessError as error:
                add_business_error(form, error)
            else:
                self.message_user(
                    request,
                    gettext("The fee change is proposed; it needs a second person's approval."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:billing_feeamendment_change", args=[amendment.pk])
                )
        facts = [
            (gettext("Contract"), contract.number),
            (gettext("Customer"), contract.customer.name),
            (gettext("Status"), contract.get_status_display()),
        ]
        return self._page(
            request,
            form,
            title=gettext("Propose a fee change"),
            facts=facts,
            hidden={"contract": contract.number},
        )

    # --- the customer's decision on paper ---------------------------------------

    def decision_view(self, request, object_id: int):
        if not self.has_record_permission(request):
            raise PermissionDenied
        amendment = get_object_or_404(FeeAmendment, pk=object_id)
        change_url = reverse("admin:billing_feeamendment_change", args=[amendment.pk])
        form = AmendmentPaperForm(request.POST or None, request.FILES or None)
        if form.is_bound and form.is_valid():
            try:
                amendment_record_paper(
                    amendment=amendment,
                    by=request.user,
                    consented=form.cleaned_data["consented"],
                    document=form.cleaned_data["document"],
                    comment=form.cleaned_data["comment"],
                )
            except BusinessError as error:
                add_business_error(form, error)
            else:
                self.message_user(request, gettext("The decision is recorded."), messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        facts = [
            (gettext("Contract"), amendment.contract.number),
            (gettext("Current amount"), amendment.old_amount),
            (gettext("New amount"), amendment.new_amount),
            (gettext("Effective from"), amendment.effective_from.isoformat()),
        ]
        return self._page(
            request,
            form,
            title=gettext("Record the customer's decision"),
            facts=facts,
            cancel_url=change_url,
        )

    def document_view(self, request, object_id: int):
        """The signed paper, for whoever may view amendments (never a public URL)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        decision = AmendmentDecision.objects.filter(amendment_id=object_id).first()
        if decision is None or not decision.document:
            raise Http404
        name = decision.document.name.rsplit("/", 1)[-1]
        return FileResponse(decision.document.open("rb"), as_attachment=True, filename=name)

    def _page(self, request, form, *, title, facts=(), hidden=None, method="post", cancel_url=None):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "facts": facts,
            "hidden": hidden or {},
            "method": method,
            "cancel_url": cancel_url or reverse("admin:billing_feeamendment_changelist"),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, FORM_TEMPLATE, context)

    # --- actions --------------------------------------------------------------

    def _each(self, request, queryset, apply, done):
        done_count = 0
        for amendment in queryset.order_by("pk"):
            try:
                apply(amendment)
            except BusinessError as error:
                self.message_user(
                    request, f"{amendment}: {' '.join(error.messages())}", messages.ERROR
                )
            else:
                done_count += 1
        if done_count:
            self.message_user(request, done(done_count), messages.SUCCESS)

    @admin.action(description=_("Approve and send to the customer"), permissions=["approve"])
    def approve_amendments(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda item: amendment_approve(amendment=item, by=request.user),
            lambda n: (
                ngettext(
                    "%(count)d fee change approved and sent to the customer.",
                    "%(count)d fee changes approved and sent to the customer.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Reject"), permissions=["approve"])
    def reject_amendments(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda item: amendment_reject(amendment=item, by=request.user),
            lambda n: (
                ngettext("%(count)d fee change rejected.", "%(count)d fee changes rejected.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Withdraw"), permissions=["add"])
    def withdraw_amendments(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda item: amendment_withdraw(amendment=item, by=request.user),
            lambda n: (
                ngettext("%(count)d fee change withdrawn.", "%(count)d fee changes withdrawn.", n)
                % {"count": n}
            ),
        )
