from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import FeedbackCategory, Score
from .models import COMMENT_MAX, TEXT_MAX


class FeedbackForm(forms.Form):
    category = forms.ChoiceField(label=_("About"), choices=FeedbackCategory.choices)
    text = forms.CharField(
        label=_("Your feedback"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class SurveyForm(forms.Form):
    """The five choices, as radio buttons (large enough for a thumb on a phone)."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=[(value, f"{value} · {label}") for value, label in Score.choices],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
