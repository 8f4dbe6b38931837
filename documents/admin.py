"""Staff's way to the documents a customer can download: the paid charges with
their receipts (one, or several as one PDF, by the list's action), and each
customer's statement of account for a chosen period.

Receipts are shown to whoever may view charges, statements to whoever may view
customers and ledger accounts, the permissions the same figures need elsewhere
(docs/reports.md); the proxies have no permissions of their own.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from billing.choices import ChargeStatus
from feemgmt.core.admin_lists import LargeTableAdminMixin
from feemgmt.core.exceptions import BusinessError

from .forms import StatementPeriodForm
from .models import ReceiptCharge, StatementCustomer
from .services import receipt_render, receipts_render, statement_render
from .views import pdf_response

RECEIPT_PERMISSIONS = ("billing.view_charge",)
STATEMENT_PERMISSIONS = ("contracts.view_customer", "ledger.view_account")
# The most receipts one download gathers.
RECEIPTS_AT_ONCE = 100


class _ReadOnly:
    permissions: tuple[str, ...] = ()

    def _allowed(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.has_perms(self.permissions))

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReceiptCharge)
class ReceiptAdmin(_ReadOnly, LargeTableAdminMixin, ModelAdmin):
    permissions = RECEIPT_PERMISSIONS
    list_display = ("contract", "customer", "kind", "period_start", "due_date", "amount", "pdf")
    list_select_related = ("contract", "contract__customer")
    search_fields = ("contract__number", "contract__customer__code", "contract__customer__name")
    list_filter = ("kind",)
    actions = ("download_receipts",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=ChargeStatus.PAID)

    @admin.display(description=_("customer"), ordering="contract__customer__code")
    def customer(self, obj):
        return obj.contract.customer

    @admin.display(description=_("receipt"))
    def pdf(self, obj):
        url = reverse("admin:documents_receiptcharge_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download (PDF)"))

    def get_urls(self):
        return [
            path(
                "<int:charge_id>/pdf/",
                self.admin_site.admin_view(self.receipt_view),
                name="documents_receiptcharge_pdf",
            ),
            *super().get_urls(),
        ]

    def receipt_view(self, request, charge_id: int):
        if not self._allowed(request):
            raise PermissionDenied
        charge = get_object_or_404(
            ReceiptCharge.objects.select_related("contract__customer"), pk=charge_id
        )
        try:
            return pdf_response(receipt_render(charge=charge))
        except BusinessError as error:
            self.message_user(request, " ".join(error.messages()), messages.ERROR)
            return redirect("admin:documents_receiptcharge_changelist")

    @action(description=_("Download the receipts of the selected charges (PDF)"))
    def download_receipts(self, request, queryset):
        charges = list(
            queryset.select_related("contract__customer").order_by("due_date", "id")[
                : RECEIPTS_AT_ONCE + 1
            ]
        )
        if len(charges) > RECEIPTS_AT_ONCE:
            self.message_user(
                request,
                _("Choose at most %(count)d charges at once.") % {"count": RECEIPTS_AT_ONCE},
                messages.ERROR,
            )
            return None
        try:
            return pdf_response(receipts_render(charges=charges))
        except BusinessError as error:
            self.message_user(request, " ".join(error.messages()), messages.ERROR)
            return None


@admin.register(StatementCustomer)
class StatementAdmin(_ReadOnly, ModelAdmin):
    permissions = STATEMENT_PERMISSIONS
    list_display = ("code", "name", "currency", "statement")
    search_fields = ("code", "name")

    @admin.display(description=_("statement of account"))
    def statement(self, obj):
        url = reverse("admin:documents_statementcustomer_statement", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Choose a period"))

    def get_urls(self):
        return [
            path(
                "<int:customer_id>/statement/",
                self.admin_site.admin_view(self.statement_view),
                name="documents_statementcustomer_statement",
            ),
            *super().get_urls(),
        ]

    def statement_view(self, request, customer_id: int):
        """GET without a period: the form. With a valid period: the PDF."""
        if not self._allowed(request):
            raise PermissionDenied
        customer = get_object_or_404(StatementCustomer, pk=customer_id)
        form = StatementPeriodForm(request.GET if "date_from" in request.GET else None)
        if form.is_valid():
            return pdf_response(
                statement_render(
                    customer=customer,
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                )
            )
        title = _("Statement of account: %(customer)s") % {"customer": customer}
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "content_title": title,
            "form": form,
            "customer": customer,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "documents/admin/statement_form.html",
            context,
            status=400 if form.is_bound else 200,
        )
