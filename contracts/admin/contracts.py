"""Admin for contracts and their fees: editable while draft, then read-only with
actions that call the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminSingleDateWidget

from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_forms import (
    ServiceFormAdminMixin,
    ServiceModelForm,
    ServiceRefused,
    error_messages,
    service_refusal,
)
from feemgmt.core.admin_lists import LargeTableAdminMixin
from feemgmt.core.exceptions import BusinessError

from ..choices import FeeKind
from ..models import Contract, Fee
from ..services import FeeInput, contract_create, contract_sign, contract_terminate, contract_update
from .customers import CurrencyChoicesMixin

CONTRACT_FIELDS = (
    "number",
    "customer",
    "currency",
    "payment_method",
    "service_start",
    "service_end",
    "alignment",
    "proration",
)
CONTRACT_STATE_FIELDS = ("status", "signed_on", "terminated_at")


# --- Contracts and their fees ----------------------------------------------------


class FeeForm(forms.ModelForm):
    """One fee row. The amount is a plain decimal: a fee is always in its
    contract's currency, which the service applies."""

    amount = forms.DecimalField(label=_("amount"), widget=UnfoldAdminDecimalFieldWidget)

    class Meta:
        model = Fee
        fields = ("kind", "amount", "cycle", "treatment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Start a new row blank, so a row left untouched is not taken for a fee.
        self.fields["kind"].choices = [("", _("Select value")), *FeeKind.choices]
        if self.instance.pk is not None:
            self.initial["amount"] = self.instance.amount.amount

    def _post_clean(self):
        # The fee rules (cycle only for recurring fees, treatment only for signing
        # fees, a positive amount in the currency's minor unit) belong to
        # contracts.services, which reports each on its field; model validation
        # here would only repeat them as generic "constraint violated" messages.
        pass


class FeeFormSet(BaseInlineFormSet):
    """The fee rows of a draft; read into FeeInput values for the service."""

    service_error: BusinessError | None = None

    def fee_forms(self) -> list[forms.Form]:
        """The rows that make up the fee list, in order (filled in, not deleted)."""
        return [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get(DELETION_FIELD_NAME, False)
        ]

    def fee_inputs(self) -> list[FeeInput]:
        return [
            FeeInput(
                kind=form.cleaned_data["kind"],
                amount=form.cleaned_data["amount"],
                cycle=form.cleaned_data.get("cycle") or "",
                treatment=form.cleaned_data.get("treatment") or "",
            )
            for form in self.fee_forms()
        ]

    def clean(self):
        super().clean()
        detail = getattr(self.service_error, "detail", None)
        if not isinstance(detail, dict) or "fees" not in detail:
            return
        errors = detail["fees"]
        # Per-fee errors come by position among the fees given to the service
        # (a list, or a mapping of "index" -> errors); anything else is about the
        # fee list as a whole.
        if isinstance(errors, dict):
            per_fee = errors
        elif isinstance(errors, list) and all(isinstance(item, dict) for item in errors):
            per_fee = dict(enumerate(errors))
        else:
            raise ValidationError(error_messages(errors))
        forms_given = self.fee_forms()
        unplaced = []
        for index, form_errors in per_fee.items():
            position = int(index) if str(index).isdigit() else None
            if position is None or position >= len(forms_given):
                unplaced.append(form_errors)
                continue
            form = forms_given[position]
            if not isinstance(form_errors, dict):
                form.add_error(None, error_messages(form_errors))
                continue
            for field, value in form_errors.items():
                form.add_error(field if field in form.fields else None, error_messages(value))
        if unplaced:
            raise ValidationError(error_messages(unplaced))


class FeeInline(TabularInline):
    model = Fee
    form = FeeForm
    formset = FeeFormSet
    fields = ("kind", "amount", "cycle", "treatment", "next_due_date")
    readonly_fields = ("next_due_date",)
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset_class = super().get_formset(request, obj, **kwargs)
        error = service_refusal(request)
        if error is None:
            return formset_class
        return type(formset_class.__name__, (formset_class,), {"service_error": error})

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    # Fees are part of their contract: whoever may write the contract (a draft)
    # may write its fees, and whoever may see it sees them.

    @staticmethod
    def _contract_perm(request, action: str) -> bool:
        opts = Contract._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")

    def _may_write(self, request, obj) -> bool:
        if obj is not None and not obj.is_draft:
            return False
        return self._contract_perm(request, "add" if obj is None else "change")

    def has_add_permission(self, request, obj=None):
        return self._may_write(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request, obj)

    def has_view_permission(self, request, obj=None):
        return self._contract_perm(request, "view") or self._contract_perm(request, "change")


class ContractForm(CurrencyChoicesMixin, ServiceModelForm):
    error_keys_elsewhere = ("fees",)

    class Meta:
        model = Contract
        fields = CONTRACT_FIELDS


class ActionDateForm(forms.Form):
    """The date a contract action applies on (today in the billing time zone by default)."""

    on = forms.DateField(label=_("date"), widget=UnfoldAdminSingleDateWidget)

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["on"].label = capfirst(label)
        self.fields["on"].initial = timezone.localdate


@admin.register(Contract)
class ContractAdmin(LargeTableAdminMixin, AuditHistoryMixin, ServiceFormAdminMixin, ModelAdmin):
    form = ContractForm
    inlines = (FeeInline,)
    list_display = (
        "number",
        "customer",
        "status",
        "service_start",
        "service_end",
        "payment_method",
        "alignment",
    )
    list_filter = (
        "status",
        "alignment",
        "payment_method",
        "proration",
        ("service_start", RangeDateFilter),
    )
    list_filter_submit = True
    search_fields = ("number", "customer__code", "customer__name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    actions = ("sign_contracts", "terminate_contracts")

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("number", "customer", "currency", "payment_method")}),
            (
                _("Service"),
                {"fields": ("service_start", "service_end", "alignment", "proration")},
            ),
        ]
        if obj is not None:
            fieldsets.append((_("Status"), {"fields": (*CONTRACT_STATE_FIELDS, "audit_history")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return (*CONTRACT_FIELDS, *CONTRACT_STATE_FIELDS, "audit_history")
        return (*CONTRACT_STATE_FIELDS, "audit_history")

    def has_change_permission(self, request, obj=None):
        # Signed terms are frozen: a signed contract is shown read-only, and a POST
        # to its change form is refused (403). Changes go through the actions.
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # No service deletes contracts; signed ones carry charges and history.
        return False

    def save_model(self, request, obj, form, change):
        """Nothing yet: a contract and its fees are written by one service call,
        in save_related(), once the fee rows are valid too."""

    def save_related(self, request, form, formsets, change):
        fee_formset = next((fs for fs in formsets if isinstance(fs, FeeFormSet)), None)
        values = {name: form.cleaned_data[name] for name in CONTRACT_FIELDS}
        if fee_formset is None:
            give_fees, fee_inputs, old_fees = not change, [], []
        else:
            give_fees = not change or fee_formset.has_changed() or "currency" in form.changed_data
            fee_inputs = fee_formset.fee_inputs()
            old_fees = [f.instance for f in fee_formset.initial_forms]
        try:
            if change:
                saved = contract_update(
                    contract=form.instance, fees=fee_inputs if give_fees else None, **values
                )
            else:
                saved = contract_create(fees=fee_inputs, **values)
        except BusinessError as exc:
            raise ServiceRefused(exc) from exc
        self._copy_saved(form.instance, saved)
        if fee_formset is not None:
            fee_formset.new_objects = list(saved.fees.all()) if give_fees else []
            fee_formset.deleted_objects = old_fees if give_fees else []
            fee_formset.changed_objects = []

    # --- actions --------------------------------------------------------------

    @admin.action(description=_("Sign selected contracts"), permissions=["change"])
    def sign_contracts(self, request, queryset):
        return self._dated_action(
            request,
            queryset,
            action="sign_contracts",
            title=_("Sign contracts"),
            label=_("signed on"),
            help_text=_("The fees become due from this date; the signing fee is charged on it."),
            apply=lambda contract, on: contract_sign(contract=contract, signed_on=on),
            done_message=lambda n: ngettext(
                "%(count)d contract signed.", "%(count)d contracts signed.", n
            ),
        )

    @admin.action(description=_("Terminate selected contracts"), permissions=["change"])
    def terminate_contracts(self, request, queryset):
        return self._dated_action(
            request,
            queryset,
            action="terminate_contracts",
            title=_("Terminate contracts"),
            label=_("last day of service"),
            help_text=_(
                "Nothing is charged for days after this date; the period it cuts is prorated."
            ),
            apply=lambda contract, on: contract_terminate(contract=contract, end_date=on),
            done_message=lambda n: ngettext(
                "%(count)d contract terminated.", "%(count)d contracts terminated.", n
            ),
        )

    def _dated_action(
        self, request, queryset, *, action, title, label, help_text, apply, done_message
    ):
        """Ask for a date on an intermediate page, then apply the service to each
        selected contract (each in its own transaction) and report by message."""
        queryset = queryset.select_related("customer").order_by("number")
        if "apply" in request.POST:
            form = ActionDateForm(request.POST, label=label)
            if form.is_valid():
                on = form.cleaned_data["on"]
                done = 0
                for contract in queryset:
                    try:
                        apply(contract, on)
                    except BusinessError as exc:
                        self.message_user(
                            request,
                            _("%(number)s: %(reason)s")
                            % {"number": contract.number, "reason": " ".join(exc.messages())},
                            messages.ERROR,
                        )
                    else:
                        done += 1
                if done:
                    self.message_user(
                        request, done_message(done) % {"count": done}, messages.SUCCESS
                    )
                return None
        else:
            form = ActionDateForm(label=label)
        form.fields["on"].help_text = help_text
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/contracts/contract/date_action.html", context)
