"""Alerts: something finance staff should look at before a customer complains.

An alert is about one subject (``charge:12``, ``mandate:3``) and is raised by the
service that noticed the problem. While it is open or acknowledged there is only
one alert per (kind, subject) — the database keeps it so — so a daily sweep that
notices the same problem again does not pile up copies. A snoozed alert is still
open in that sense: it sleeps until ``snoozed_until`` and then wakes up open.
``notified_at`` says when the finance group was told of it by e-mail (a run's
digest, or at once when critical); an alert never e-mailed has none.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contracts.models import Customer

from .choices import OPEN_STATUSES, AlertKind, AlertStatus, Severity


class Alert(models.Model):
    kind = models.CharField(
        pgettext_lazy("alert", "kind"), max_length=32, choices=AlertKind.choices
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    subject = models.CharField(_("subject"), max_length=64)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("customer"),
    )
    message = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    notified_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            # what the next e-mail has to tell: few rows, found without a scan
            models.Index(
                fields=["severity"],
                condition=Q(notified_at__isnull=True),
                name="alert_not_notified",
            ),
            models.Index(
                fields=["snoozed_until"],
                condition=Q(status="snoozed"),
                name="alert_snoozed_until",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="alert_one_open_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(status="snoozed", snoozed_until__isnull=False)
                | (~Q(status="snoozed") & Q(snoozed_until__isnull=True)),
                name="alert_snoozed_iff_until",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"
