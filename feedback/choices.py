from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FeedbackCategory(models.TextChoices):
    BILLING = "billing", _("Charges and billing")
    PAYMENT = "payment", _("Payments")
    FEE_CHANGE = "fee_change", _("Fee changes")
    PORTAL = "portal", _("This portal")
    SERVICE = "service", _("Our service")
    OTHER = "other", _("Something else")


class SurveyContext(models.TextChoices):
    """What a survey answer is about: nothing in particular, one payment attempt,
    or one fee change (an amendment, referred to by its id)."""

    GENERAL = "general", pgettext_lazy("survey context", "General")
    PAYMENT = "payment", _("After a payment")
    FEE_CHANGE = "fee_change", _("After a fee change")


class Score(models.IntegerChoices):
    VERY_DISSATISFIED = 1, _("Very dissatisfied")
    DISSATISFIED = 2, _("Dissatisfied")
    NEUTRAL = 3, _("Neither satisfied nor dissatisfied")
    SATISFIED = 4, _("Satisfied")
    VERY_SATISFIED = 5, _("Very satisfied")
