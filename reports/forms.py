"""The filters every report takes, read from GET parameters.

One form serves the API and the admin pages, so a malformed date or an unknown
customer is refused with the same message wherever it was typed.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contracts.models import Customer

from .registry import ReportFilters


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(label=pgettext_lazy("report filter", "From"), required=False)
    date_to = forms.DateField(label=pgettext_lazy("report filter", "To"), required=False)
    customer = forms.IntegerField(label=_("Customer"), required=False, min_value=1)
    currency = forms.ChoiceField(
        label=_("Currency"),
        required=False,
        choices=[("", "---------"), *settings.CURRENCY_CHOICES],
    )

    def clean_customer(self):
        customer_id = self.cleaned_data.get("customer")
        if customer_id is not None and not Customer.objects.filter(pk=customer_id).exists():
            raise forms.ValidationError(_("No customer has this id."), code="unknown")
        return customer_id

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_from", forms.ValidationError(_("Must not be after the end date.")))
        return cleaned

    def filters(self) -> ReportFilters:
        """The validated filters; call only after ``is_valid()``."""
        data = self.cleaned_data
        return ReportFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            customer_id=data.get("customer"),
            currency=data.get("currency") or None,
        )
