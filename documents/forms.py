from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feemgmt.core.exceptions import BusinessError

from .services import statement_check_period


def _month_start():
    today = timezone.localdate()
    return today.replace(day=1)


class StatementPeriodForm(forms.Form):
    """The period of a statement of account: both days included, by default the
    month so far."""

    date_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), initial=_month_start
    )
    date_to = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            try:
                statement_check_period(start, end)
            except BusinessError as error:
                for name, messages in error.detail.items():
                    for message in messages:
                        self.add_error(name, message)
        return cleaned
