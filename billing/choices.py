from django.db import models
from django.utils.translation import gettext_lazy as _


class ChargeStatus(models.TextChoices):
    PENDING = "pending", _("Pending collection")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    OVERDUE = "overdue", _("Overdue")
    WRITTEN_OFF = "written_off", _("Written off")
    CANCELLED = "cancelled", _("Cancelled")
