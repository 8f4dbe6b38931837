"""A risk rule's settings, as a finance manager sets them in the admin.

One row per rule (risk/rules/ defines what each rule looks for). The rows start
from settings.RISK_RULES and are created when missing (:func:`risk.services.
risk_rules_ensure`); from then on the row is what the rule reads, and every change
to it is an audited service call (``risk_rule.changed``).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alerts.choices import Severity

from .choices import RULE_CHOICES


class RiskRule(models.Model):
    code = models.CharField(_("rule"), max_length=32, choices=RULE_CHOICES, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    count = models.PositiveIntegerField(
        _("number (N)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    days = models.PositiveIntegerField(
        _("days (N)"), null=True, blank=True, validators=[MaxValueValidator(3650)]
    )
    percent = models.DecimalField(
        _("percentage (X%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gte=0),
                name="risk_rule_percent_not_negative",
            ),
        ]

    def __str__(self):
        return str(self.get_code_display())
