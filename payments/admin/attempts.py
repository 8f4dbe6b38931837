"""Payment attempts (refunded from their page) and the inlines that list them."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminTextInputWidget

from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_export import ExportAdminMixin
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money, money_str

from ..adapters.base import ActionKind, error_text
from ..choices import AttemptStatus, RefundStatus
from ..models import (
    PaymentAttempt,
)
from ..resources import PaymentAttemptResource
from ..services.refunds import payment_refund, refundable
from .common import (
    ATTEMPT_LABELS,
    REFUND_TEMPLATE,
    ReadOnlyAdmin,
    pretty_json,
)

# --- Payment attempts --------------------------------------------------------------


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("amount"), min_value=Decimal("0.01"), widget=UnfoldAdminDecimalFieldWidget
    )
    reason = forms.CharField(label=_("reason"), max_length=200, widget=UnfoldAdminTextInputWidget)


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ExportAdminMixin, AuditHistoryMixin, ReadOnlyAdmin):
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
    resource_classes = (PaymentAttemptResource,)
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
