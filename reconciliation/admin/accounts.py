"""Receiving accounts: added through ``bank_account_create`` and changed through
``bank_account_update`` (which accept only a column mapping the reader
understands and write the audit event), and a "Preview
with this mapping" page to try a mapping on a sample export before saving it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_forms import ServiceFormAdminMixin, ServiceRefused
from feemgmt.core.exceptions import BusinessError

from ..forms import BankAccountForm, MappingPreviewForm
from ..models import BankAccount
from ..services import bank_account_create, bank_account_update
from .common import code_block

MAPPING_PREVIEW_TEMPLATE = "reconciliation/mapping_preview.html"


@admin.register(BankAccount)
class BankAccountAdmin(AuditHistoryMixin, ServiceFormAdminMixin, ModelAdmin):
    form = BankAccountForm
    list_display = (
        "code",
        "name",
        "kind",
        "bank",
        "masked_number",
        "currency",
        "active",
        "receives_transfers",
    )
    list_filter = ("kind", "currency", "active", "receives_transfers")
    search_fields = ("code", "name", "bank", "account_number", "holder")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "name",
                    "kind",
                    "bank",
                    "account_number",
                    "holder",
                    "currency",
                    "receives_transfers",
                    "active",
                )
            },
        ),
        (_("Statement files"), {"fields": ("default_format", "column_mapping")}),
        (_("History"), {"fields": ("audit_history",)}),
    )
    actions_detail = ("preview_mapping",)

    def get_fieldsets(self, request, obj=None):
        # an account being added has no history yet (and save_model reads the form's fields)
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj is not None else fieldsets[:-1]

    @display(description=_("account number"), ordering="account_number")
    def masked_number(self, obj: BankAccount) -> str:
        return obj.masked_number

    def has_delete_permission(self, request, obj=None):
        # Statements and ledger entries keep the account; deactivate it instead.
        return False

    def save_model(self, request, obj, form, change):
        """A new account goes through the service; a change is the validated form
        (its column mapping already checked and normalised by the service's check)."""
        values = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            if change:
                saved = bank_account_update(account=obj, **values)
            else:
                saved = bank_account_create(**values)
        except BusinessError as exc:
            raise ServiceRefused(exc) from exc
        self._copy_saved(obj, saved)

    # --- Preview with this mapping -----------------------------------------------------

    @action(
        description=_("Preview with this mapping"),
        url_path="preview-mapping",
        icon="table_view",
        permissions=["change"],
    )
    def preview_mapping(self, request, object_id):
        """GET: the form. POST "preview": the sample's first rows as read and its
        first lines as parsed with the chosen mapping, or why it does not fit.
        POST "save": the typed mapping saved on the account, if it is valid."""
        account = get_object_or_404(BankAccount, pk=object_id)
        change_url = reverse("admin:reconciliation_bankaccount_change", args=(account.pk,))
        result = None
        step = request.POST.get("step", "preview")
        if request.method == "POST":
            form = MappingPreviewForm(
                request.POST, request.FILES, account=account, session=request.session
            )
            if step == "save":
                form.needs_file = False
                if self._save_mapping(request, form, account):
                    return HttpResponseRedirect(change_url)
            elif form.is_valid():
                form.keep(form.cleaned_data["upload"])
                result = form.preview()
        else:
            form = MappingPreviewForm(account=account, session=request.session)
        title = gettext("Column mapping of %(account)s") % {"account": account}
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": account,
            "account": account,
            "form": form,
            "result": result,
            "saved_mapping": code_block(account.column_mapping),
            "change_url": change_url,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, MAPPING_PREVIEW_TEMPLATE, context)

    def _save_mapping(self, request, form: MappingPreviewForm, account: BankAccount) -> bool:
        """Only the mapping field matters for saving; the sample is not needed."""
        form.full_clean()
        if "mapping_json" in form.errors:
            return False
        checked = form.checked_mapping()
        if checked is None:
            return False
        bank_account_update(account=account, column_mapping=checked)
        form.forget()
        self.log_change(request, account, [{"changed": {"fields": ["column_mapping"]}}])
        self.message_user(
            request,
            gettext("The column mapping %(name)s is saved on %(account)s.")
            % {"name": checked["name"], "account": account.code},
            messages.SUCCESS,
        )
        return True
