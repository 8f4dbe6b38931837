"""Admin for the collection side: payment attempts, refunds, write-off approvals,
mandates, direct-debit batches and the gateway/customer message logs; and the
collection additions to the charge and customer admins.

Collection records are written by payments.services only: here they are read-only,
and every change is an action that calls a service. When a service refuses
(BusinessError), its message is shown and nothing is written. Mandates are the
exception: staff type them in from the signed form, so they have a full form.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateFilter, RangeDateTimeFilter
from unfold.decorators import action, display
from unfold.views import ChangeList
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminTextInputWidget

from audit.admin import AuditHistoryMixin
from billing.admin import ChargeAdmin
from billing.models import Charge
from contracts.admin import CustomerAdmin
from contracts.models import Customer
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money, money_str
from ledger.choices import AccountPurpose
from ledger.models import Account
from ledger.selectors import balances_for_customer, receivable_by_customer

from .adapters.base import ActionKind, error_text, redact, thaw
from .choices import ApprovalStatus, AttemptStatus, MandateStatus, RefundStatus
from .models import (
    DirectDebitBatch,
    InboundNotification,
    Mandate,
    PaymentAttempt,
    Refund,
    SentNotice,
    WriteOffRequest,
)
from .services.collection import COLLECTABLE, outstanding
from .services.mandates import mandate_save, mandates_revoke
from .services.refunds import payment_refund, refund_confirm_manual, refund_send, refundable
from .services.staff import (
    charge_cancel,
    charge_retry_now,
    write_off_approve,
    write_off_reject,
    write_off_request,
)
from .tasks import collect_charge_task

ACTION_FORM_TEMPLATE = "admin/payments/action_form.html"
REFUND_TEMPLATE = "admin/payments/paymentattempt/refund.html"

# unfold label colours per status value.
ATTEMPT_LABELS = {
    AttemptStatus.PENDING: "info",
    AttemptStatus.UNKNOWN: "warning",
    AttemptStatus.SUCCEEDED: "success",
    AttemptStatus.FAILED: "danger",
    AttemptStatus.RETURNED: "danger",
}
REFUND_LABELS = {
    RefundStatus.PENDING: "info",
    RefundStatus.SUCCEEDED: "success",
    RefundStatus.FAILED: "danger",
    RefundStatus.MANUAL: "warning",
}
APPROVAL_LABELS = {
    ApprovalStatus.REQUESTED: "warning",
    ApprovalStatus.APPROVED: "success",
    ApprovalStatus.REJECTED: "danger",
}
MANDATE_LABELS = {
    MandateStatus.ACTIVE: "success",
    MandateStatus.REVOKED: "danger",
    MandateStatus.EXPIRED: "warning",
}


class ReadOnlyAdmin(ModelAdmin):
    """Rows written by the services only: listed and shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def pretty_json(value) -> str:
    """A stored gateway exchange, redacted again (it is stored redacted; this keeps
    secrets out of the page even for rows written before a key joined the list)."""
    if not value:
        return "—"
    data = thaw(redact(value)) if isinstance(value, dict) else value
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="text-xs whitespace-pre-wrap break-all">{}</pre>', text)


def service_error_text(exc: BusinessError) -> str:
    return " ".join(exc.messages()) or str(exc)


def apply_each(model_admin, request, objects, apply, done_message) -> int:
    """Call a service on each object (each in its own transaction, in the service)
    and report each refusal, then the number done."""
    done = 0
    for obj in objects:
        try:
            apply(obj)
        except BusinessError as exc:
            model_admin.message_user(
                request,
                gettext("%(object)s: %(reason)s")
                % {"object": obj, "reason": service_error_text(exc)},
                messages.ERROR,
            )
        else:
            done += 1
    if done:
        model_admin.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)
    return done


class ActionTextForm(forms.Form):
    """The one text an action asks for (a reason, a decision note)."""

    text = forms.CharField(max_length=200, widget=UnfoldAdminTextInputWidget)

    def __init__(self, *args, label, required=True, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["text"]
        field.label, field.required, field.help_text = label, required, help_text


def text_action(
    model_admin,
    request,
    queryset,
    *,
    action_name,
    title,
    label,
    apply,
    done_message,
    required=True,
    help_text="",
):
    """Ask for one text on an intermediate page, then call the service on each
    selected object with it. Returns None (back to the list) once applied."""
    if "apply" in request.POST:
        form = ActionTextForm(request.POST, label=label, required=required)
        if form.is_valid():
            text = form.cleaned_data["text"]
            apply_each(model_admin, request, queryset, lambda obj: apply(obj, text), done_message)
            return None
    else:
        form = ActionTextForm(label=label, required=required)
    form.fields["text"].help_text = help_text
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "form": form,
        "queryset": queryset,
        "action": action_name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, ACTION_FORM_TEMPLATE, context)


# --- Payment attempts --------------------------------------------------------------


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("amount"), min_value=Decimal("0.01"), widget=UnfoldAdminDecimalFieldWidget
    )
    reason = forms.CharField(label=_("reason"), max_length=200, widget=UnfoldAdminTextInputWidget)


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    list_display = (
        "idempotency_key",
        "charge",
        "contract",
        "customer",
        "number",
        "method",
        "amount",
        "status_label",
        "provider_reference",
        "error",
        "created_at",
        "decided_at",
    )
    list_filter = ("status", "method", ("created_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = (
        "idempotency_key",
        "provider_reference",
        "charge__contract__number",
        "charge__contract__customer__code",
        "charge__contract__customer__name",
    )
    list_select_related = ("charge__contract__customer",)
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "charge",
                    "contract",
                    "customer",
                    "number",
                    "idempotency_key",
                    "method",
                    "amount",
                    "status_label",
                    "provider_reference",
                    "mandate",
                    "batch",
                    "created_at",
                    "decided_at",
                    "audit_history",
                )
            },
        ),
        (_("Customer action"), {"fields": ("action_kind", "customer_action")}),
        (_("Gateway"), {"fields": ("error", "refundable_amount", "raw_pretty")}),
    )
    readonly_fields = (
        "contract",
        "customer",
        "status_label",
        "customer_action",
        "error",
        "refundable_amount",
        "raw_pretty",
        "created_at",
    )
    actions_detail = ("refund_attempt",)

    @display(description=_("contract"), ordering="charge__contract__number")
    def contract(self, obj: PaymentAttempt):
        return obj.charge.contract.number

    @display(description=_("customer"), ordering="charge__contract__customer__code")
    def customer(self, obj: PaymentAttempt):
        return obj.charge.contract.customer

    @display(description=_("status"), ordering="status", label=ATTEMPT_LABELS)
    def status_label(self, obj: PaymentAttempt):
        return obj.status, obj.get_status_display()

    @display(description=_("error"))
    def error(self, obj: PaymentAttempt):
        if not obj.error_code:
            return obj.error_message or ""
        return f"{error_text(obj.error_code)} ({obj.error_code})"

    @display(description=_("customer action detail"))
    def customer_action(self, obj: PaymentAttempt):
        value = obj.action_value
        if not value:
            return "—"
        if obj.action_kind == ActionKind.PAY_URL:
            return format_html('<a class="text-link" href="{0}" rel="noopener">{0}</a>', value)
        if obj.action_kind == ActionKind.QR_CODE:
            return format_html(
                '{}<br><code class="break-all">{}</code>', gettext("QR code content:"), value
            )
        if obj.action_kind == ActionKind.PAYMENT_NOTICE:
            return format_html(
                '{} <code class="font-semibold">{}</code>', gettext("Remittance reference:"), value
            )
        return value

    @display(description=_("still refundable"))
    def refundable_amount(self, obj: PaymentAttempt):
        if obj.status != AttemptStatus.SUCCEEDED:
            return "—"
        return money_str(refundable(obj))

    @display(description=_("gateway exchange"))
    def raw_pretty(self, obj: PaymentAttempt):
        return pretty_json(obj.raw)

    # --- Refund… ------------------------------------------------------------------

    def has_refund_permission(self, request, object_id=None):
        if not request.user.has_perm("payments.add_refund"):
            return False
        if object_id is None:
            return True
        return PaymentAttempt.objects.filter(pk=object_id, status=AttemptStatus.SUCCEEDED).exists()

    @action(description=_("Refund…"), url_path="refund", icon="undo", permissions=["refund"])
    def refund_attempt(self, request, object_id):
        """GET: the amount and reason. POST: payment_refund, then back to the attempt."""
        attempt = get_object_or_404(PaymentAttempt.objects.select_related("charge"), pk=object_id)
        if attempt.status != AttemptStatus.SUCCEEDED:
            raise PermissionDenied
        change_url = reverse("admin:payments_paymentattempt_change", args=(attempt.pk,))
        currency = attempt.amount.currency.code
        available = refundable(attempt)
        if request.method == "POST":
            form = RefundForm(request.POST)
            if form.is_valid():
                try:
                    refund = payment_refund(
                        attempt=attempt,
                        amount=money(form.cleaned_data["amount"], currency),
                        reason=form.cleaned_data["reason"],
                        requested_by=request.user,
                    )
                except BusinessError as exc:
                    detail = exc.detail if isinstance(exc.detail, dict) else {}
                    placed = False
                    for key in ("amount", "reason"):
                        if key in detail:
                            form.add_error(key, BusinessError(detail[key]).messages())
                            placed = True
                    if not placed:
                        form.add_error(None, exc.messages())
                else:
                    self.message_user(
                        request,
                        gettext("Refund %(key)s of %(amount)s: %(status)s.")
                        % {
                            "key": refund.idempotency_key,
                            "amount": money_str(refund.amount),
                            "status": refund.get_status_display(),
                        },
                        messages.ERROR
                        if refund.status == RefundStatus.FAILED
                        else messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
        else:
            form = RefundForm(initial={"amount": available.amount})
        form.fields["amount"].help_text = gettext(
            "In %(currency)s; at most %(available)s can still be refunded."
        ) % {"currency": currency, "available": money_str(available)}
        title = gettext("Refund payment %(key)s") % {"key": attempt.idempotency_key}
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": attempt,
            "attempt": attempt,
            "form": form,
            "change_url": change_url,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, REFUND_TEMPLATE, context)


class AttemptInline(TabularInline):
    """A charge's (or a mandate's) attempts, read-only."""

    model = PaymentAttempt
    fk_name = "charge"
    fields = (
        "number",
        "idempotency_key",
        "method",
        "amount",
        "status",
        "provider_reference",
        "error_code",
        "created_at",
        "decided_at",
    )
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    ordering = ("number",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MandateAttemptInline(AttemptInline):
    fk_name = "mandate"
    fields = ("charge", *AttemptInline.fields)
    readonly_fields = fields
    ordering = ("-created_at",)


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


# --- Mandates -----------------------------------------------------------------------


class MandateForm(forms.ModelForm):
    """Validation lives on the model (IBAN, BIC, dates); the form only tidies the
    account numbers as typed ("de89 3704 …" → "DE893704…")."""

    class Meta:
        model = Mandate
        fields = (
            "customer",
            "reference",
            "signed_on",
            "debtor_name",
            "debtor_iban",
            "debtor_bic",
            "limit",
            "valid_until",
        )

    def clean_debtor_iban(self):
        return stdnum_iban.compact(self.cleaned_data["debtor_iban"])

    def clean_debtor_bic(self):
        return stdnum_bic.compact(self.cleaned_data["debtor_bic"])


@admin.register(Mandate)
class MandateAdmin(AuditHistoryMixin, ModelAdmin):
    form = MandateForm
    inlines = (MandateAttemptInline,)
    list_display = (
        "reference",
        "customer",
        "debtor_name",
        "masked_iban",
        "debtor_bic",
        "limit",
        "signed_on",
        "valid_until",
        "status_label",
    )
    list_filter = ("status", ("signed_on", RangeDateFilter), ("valid_until", RangeDateFilter))
    list_filter_submit = True
    search_fields = ("reference", "debtor_name", "customer__code", "customer__name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    readonly_fields = ("status", "revoked_at")  # revoked by the action, through the service
    fieldsets = (
        (None, {"fields": ("customer", "reference", "signed_on", "valid_until", "limit")}),
        (_("Debtor account"), {"fields": ("debtor_name", "debtor_iban", "debtor_bic")}),
        (_("Status"), {"fields": ("status", "revoked_at", "audit_history")}),
    )
    actions = ("revoke_mandates",)

    def save_model(self, request, obj, form, change):
        mandate_save(mandate=obj)

    @display(description=_("debtor account (IBAN)"), ordering="debtor_iban")
    def masked_iban(self, obj: Mandate):
        text = obj.debtor_iban
        return f"{text[:4]} **** {text[-4:]}" if len(text) > 8 else text

    @display(description=_("status"), ordering="status", label=MANDATE_LABELS)
    def status_label(self, obj: Mandate):
        return obj.status, obj.get_status_display()

    @admin.action(description=_("Revoke selected mandates"), permissions=["change"])
    def revoke_mandates(self, request, queryset):
        count = mandates_revoke(queryset)
        self.message_user(
            request,
            ngettext("%(count)d mandate revoked.", "%(count)d mandates revoked.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


# --- Direct debit batches ----------------------------------------------------------


@admin.register(DirectDebitBatch)
class DirectDebitBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "message_id",
        "collection_date",
        "transactions",
        "control_sum",
        "currency",
        "created_at",
        "download_link",
    )
    list_filter = ("currency", ("collection_date", RangeDateFilter))
    list_filter_submit = True
    search_fields = ("message_id",)
    date_hierarchy = "collection_date"
    fields = (
        "message_id",
        "collection_date",
        "transactions",
        "control_sum",
        "currency",
        "created_at",
        "download_link",
    )
    readonly_fields = ("created_at", "download_link")
    actions_detail = ("download_document",)

    @display(description=_("pain.008 document"))
    def download_link(self, obj: DirectDebitBatch):
        url = reverse("admin:payments_directdebitbatch_download_document", args=(obj.pk,))
        return format_html(
            '<a class="text-link" href="{}">{}</a>', url, gettext("Download pain.008")
        )

    @action(description=_("Download pain.008"), url_path="download", icon="download")
    def download_document(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(DirectDebitBatch, pk=object_id)
        response = HttpResponse(batch.document, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.message_id}.xml"'
        return response


# --- Message logs (support) ----------------------------------------------------------


@admin.register(InboundNotification)
class InboundNotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "method",
        "accepted",
        "reason",
        "idempotency_key",
        "provider_reference",
        "attempt",
    )
    list_filter = ("accepted", "method", "reason", ("received_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = ("idempotency_key", "provider_reference")
    list_select_related = ("attempt",)
    date_hierarchy = "received_at"
    fields = (
        "received_at",
        "method",
        "accepted",
        "reason",
        "idempotency_key",
        "provider_reference",
        "attempt",
        "raw_pretty",
    )
    readonly_fields = ("received_at", "raw_pretty")

    @display(description=_("content"))
    def raw_pretty(self, obj: InboundNotification):
        return pretty_json(obj.raw)


@admin.register(SentNotice)
class SentNoticeAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "key", "customer", "recipient", "subject")
    list_filter = ("kind", ("sent_at", RangeDateTimeFilter))
    list_filter_submit = True
    search_fields = ("key", "recipient", "subject", "customer__code", "customer__name")
    list_select_related = ("customer",)
    date_hierarchy = "sent_at"


# --- Charges: collection actions ----------------------------------------------------


class CollectionChargeAdmin(ChargeAdmin):
    """The charge admin with its attempts and what staff do when collection is stuck."""

    inlines = (AttemptInline,)
    list_display = (*ChargeAdmin.list_display, "next_attempt_on")
    readonly_fields = ("outstanding_amount",)
    actions = ("retry_now", "cancel_charges", "request_write_off")

    @display(description=_("outstanding"))
    def outstanding_amount(self, obj: Charge):
        if obj.status not in COLLECTABLE:
            return "—"
        return money_str(outstanding(obj))

    def has_collect_permission(self, request):
        return request.user.has_perm("billing.change_charge")

    def has_write_off_permission(self, request):
        return request.user.has_perm("payments.add_writeoffrequest")

    @admin.action(description=_("Retry now"), permissions=["collect"])
    def retry_now(self, request, queryset):
        def retry(charge):
            charge = charge_retry_now(charge=charge)
            pk = charge.pk
            transaction.on_commit(lambda: collect_charge_task.delay(pk, True))

        apply_each(
            self,
            request,
            queryset.order_by("id"),
            retry,
            lambda n: ngettext(
                "%(count)d charge handed over for collection now.",
                "%(count)d charges handed over for collection now.",
                n,
            ),
        )

    @admin.action(description=_("Cancel selected charges"), permissions=["collect"])
    def cancel_charges(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.order_by("id"),
            lambda charge: charge_cancel(charge=charge),
            lambda n: ngettext("%(count)d charge cancelled.", "%(count)d charges cancelled.", n),
        )

    @admin.action(description=_("Request write-off"), permissions=["write_off"])
    def request_write_off(self, request, queryset):
        return text_action(
            self,
            request,
            queryset.select_related("contract__customer").order_by("id"),
            action_name="request_write_off",
            title=_("Request write-off"),
            label=_("reason"),
            help_text=_("Another user with the approval permission decides."),
            apply=lambda charge, reason: write_off_request(
                charge=charge, requested_by=request.user, reason=reason
            ),
            done_message=lambda n: ngettext(
                "%(count)d write-off requested.", "%(count)d write-offs requested.", n
            ),
        )


admin.site.unregister(Charge)
admin.site.register(Charge, CollectionChargeAdmin)


# --- Customers: ledger balances -----------------------------------------------------


LEDGER_COLUMNS = (AccountPurpose.RECEIVABLE, AccountPurpose.PREPAID, AccountPurpose.DEPOSIT_HELD)


def ledger_headers() -> list[str]:
    """Column titles of the balances table, in the viewer's language."""
    return [gettext("Currency"), *(str(AccountPurpose(p).label) for p in LEDGER_COLUMNS)]


class CustomerBalanceChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        customers = list(self.result_list)
        due = receivable_by_customer([customer.pk for customer in customers])
        for customer in customers:
            customer._balance_due = due.get(customer.pk, [])


class CollectionCustomerAdmin(CustomerAdmin):
    """The customer admin with the customer's ledger balances."""

    list_display = (*CustomerAdmin.list_display, "balance_due")
    readonly_fields = ("ledger_balances",)

    def get_changelist(self, request, **kwargs):
        return CustomerBalanceChangeList

    def get_fields(self, request, obj=None):
        fields = tuple(super().get_fields(request, obj))
        if obj is None:
            return tuple(f for f in fields if f != "ledger_balances")
        return fields if "ledger_balances" in fields else (*fields, "ledger_balances")

    @display(description=_("balance due"))
    def balance_due(self, obj: Customer):
        amounts = getattr(obj, "_balance_due", None)
        if amounts is None:  # not from the list page
            amounts = receivable_by_customer([obj.pk]).get(obj.pk, [])
        return ", ".join(money_str(amount) for amount in amounts) or "—"

    @display(description=_("ledger balances"))
    def ledger_balances(self, obj: Customer):
        if obj.pk is None:
            return "—"
        currencies = set(
            Account.objects.filter(customer_id=obj.pk).values_list("currency", flat=True)
        )
        currencies.add(obj.currency)
        rows = []
        for currency in sorted(currencies):
            balances = balances_for_customer(customer_id=obj.pk, currency=currency)
            rows.append((currency, *(money_str(balances[p]) for p in LEDGER_COLUMNS)))
        header = format_html_join(
            "", '<th class="px-3 py-1 text-left">{}</th>', ((label,) for label in ledger_headers())
        )
        body = format_html_join(
            "",
            '<tr data-currency="{}"><td class="px-3 py-1 font-semibold">{}</td>'
            '<td class="px-3 py-1">{}</td><td class="px-3 py-1">{}</td>'
            '<td class="px-3 py-1">{}</td></tr>',
            ((row[0], *row) for row in rows),
        )
        return format_html(
            '<table class="ledger-balances"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            header,
            body,
        )


admin.site.unregister(Customer)
admin.site.register(Customer, CollectionCustomerAdmin)
