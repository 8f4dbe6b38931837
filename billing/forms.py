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


class AmendmentContractForm(forms.Form):
    """First step of proposing a fee change: which contract."""

    contract = forms.CharField(
        label=_("Contract number"), max_length=40, help_text=_("A signed or active contract.")
    )


class AmendmentProposeForm(forms.Form):
    """A new amount for one of the contract's recurring fees, from a period start."""

    fee = forms.ChoiceField(label=_("Fee"))
    new_amount = forms.DecimalField(label=_("New amount"), max_digits=14, decimal_places=2)
    effective_from = forms.DateField(
        label=_("Effective from"),
        widget=UnfoldAdminSingleDateWidget,
        help_text=_("The start of the first period charged the new amount; it must be ahead."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The customer reads this with the change."),
    )

    def __init__(self, *args, fees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fees = {str(fee.pk): fee for fee in fees}
        self.fields["fee"].choices = [(key, str(fee)) for key, fee in self.fees.items()]


class AmendmentPaperForm(forms.Form):
    """The customer's decision, signed on paper, recorded by staff."""

    consented = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Consented")), ("no", _("Declined"))],
        coerce=lambda value: value == "yes",
    )
    document = forms.FileField(
        label=_("Signed document"),
        required=False,
        help_text=_("The scan of the signed consent (PDF, PNG or JPEG); required for a consent."),
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
