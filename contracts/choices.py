from django.db import models
from django.utils.translation import gettext_lazy as _


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    TERMINATED = "terminated", _("Terminated")


class Alignment(models.TextChoices):
    CALENDAR = "calendar", _("Calendar (start of month / quarter / year)")
    ANNIVERSARY = "anniversary", _("Anniversary of service start")


class Proration(models.TextChoices):
    DAILY = "daily", _("By days used")
    NONE = "none", _("None (charge the full period)")


class FeeKind(models.TextChoices):
    SIGNING = "signing", _("Signing fee")
    SERVICE_START = "service_start", _("Service start fee")
    RECURRING = "recurring", _("Recurring fee")


class Cycle(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")


class SigningTreatment(models.TextChoices):
    FEE = "fee", _("One-off fee income")
    PREPAYMENT = "prepayment", _("Prepayment to the customer's balance")
    DEPOSIT = "deposit", _("Deposit, refundable at termination")
