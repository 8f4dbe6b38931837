"""Mandates (typed in from the signed form) and the direct-debit files sent under
them."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action, display

from audit.admin import AuditHistoryMixin

from ..models import (
    DirectDebitBatch,
    Mandate,
)
from ..services.mandates import mandate_save, mandates_revoke
from .attempts import MandateAttemptInline
from .common import (
    MANDATE_LABELS,
    ReadOnlyAdmin,
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
