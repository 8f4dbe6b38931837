"""The portal's forms: login and password reset for customer logins only, list
filters, and the mandate authorisation."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _
from djmoney.forms import MoneyField

from billing.choices import ChargeStatus
from payments.choices import AttemptStatus


class PortalLoginForm(AuthenticationForm):
    """Django's login form, refusing logins that belong to no customer (staff use
    the admin) with the same message as a wrong password, so the portal's login
    does not tell which staff usernames exist."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_staff or not hasattr(user, "customer_login"):
            raise self.get_invalid_login_error()


class PortalPasswordResetForm(PasswordResetForm):
    """Password reset e-mails go to customer logins only: a staff address typed here
    gets nothing (staff reset their password through an administrator)."""

    def get_users(self, email):
        return (
            user
            for user in super().get_users(email)
            if not user.is_staff and hasattr(user, "customer_login")
        )


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the range is before its start."))
        return data

    def filters(self) -> dict:
        """The filters to apply: none of an invalid form's (its errors are shown)."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


class ChargeFilterForm(DateRangeForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *ChargeStatus.choices],
    )
    field_order = ["status", "date_from", "date_to"]


class PaymentFilterForm(DateRangeForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *AttemptStatus.choices],
    )
    field_order = ["status", "date_from", "date_to"]


class MandateForm(forms.Form):
    """The account to debit. The authorisation text is shown above the form and
    confirmed with ``consent``; its digest comes back with the form."""

    debtor_name = forms.CharField(label=_("Account holder"), max_length=70)
    debtor_iban = forms.CharField(label=_("Account (IBAN)"), max_length=42)
    debtor_bic = forms.CharField(label=_("Bank (BIC)"), max_length=11, required=False)
    limit = MoneyField(
        label=_("Limit per charge"),
        required=False,
        currency_choices=settings.CURRENCY_CHOICES,
        help_text=_("A charge above this amount is not debited; leave empty for no limit."),
    )
    consent = forms.BooleanField(
        label=_("I have read the authorisation above and agree to it."), required=True
    )
    text_sha256 = forms.CharField(widget=forms.HiddenInput)
