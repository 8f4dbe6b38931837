"""Forms of the billing admin pages."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminSingleDateWidget

from feemgmt.core.exceptions import BusinessError

from .services import check_billing_date


class BillingRunForm(forms.Form):
    """The date to bill up to: every charge due on or before it that does not exist
    yet is created (a missed day is caught up)."""

    on = forms.DateField(
        label=_("Billing date"),
        initial=timezone.localdate,
        widget=UnfoldAdminSingleDateWidget,
        help_text=_(
            "Creates every charge due on or before this date that does not exist yet. "
            "Running it again for the same date creates nothing new."
        ),
    )

    def clean_on(self):
        on = self.cleaned_data["on"]
        try:
            check_billing_date(on)  # the run's own rule, shown next to the field
        except BusinessError:
            raise forms.ValidationError(
                _("Choose today or an earlier date: charges are created when they fall due.")
            ) from None
        return on
