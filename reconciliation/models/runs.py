"""Reconciliation runs: an account and a period signed off."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from feemgmt.core.models import TimeStampedModel

from ..choices import (
    RunStatus,
)
from .accounts import BankAccount


class ReconciliationRun(TimeStampedModel):
    """One account and period compared: what the statements say against what the
    books say, prepared by one person and signed off by another, then frozen."""

    account = models.ForeignKey(
        BankAccount,
        on_delete=models.PROTECT,
        related_name="runs",
        verbose_name=_("receiving account"),
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.PREPARED
    )
    currency = models.CharField(_("currency"), max_length=3)
    opening_balance = models.DecimalField(
        _("opening balance (statement)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    closing_balance = models.DecimalField(
        _("closing balance (statement)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    statement_total = models.DecimalField(_("statement total"), max_digits=16, decimal_places=2)
    ledger_total = models.DecimalField(_("ledger total"), max_digits=16, decimal_places=2)
    difference = models.DecimalField(_("difference"), max_digits=16, decimal_places=2)
    lines = models.PositiveIntegerField(_("number of lines"), default=0)
    open_discrepancies = models.PositiveIntegerField(_("open discrepancies"), default=0)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prepared by"),
    )
    prepared_at = models.DateTimeField(_("prepared at"))
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed off by"),
    )
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reopened by"),
    )
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-period_end", "account_id"]
        permissions = [
            ("sign_off_reconciliationrun", _("Can sign off a reconciliation run")),
            ("reopen_reconciliationrun", _("Can reopen a signed-off reconciliation run")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period_start", "period_end"],
                name="reconciliation_run_one_per_account_and_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="reconciliation_run_period_ordered",
            ),
            # maker-checker: the database itself refuses a self-signed run
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True) | ~Q(signed_off_by=F("prepared_by")),
                name="reconciliation_run_signed_off_by_another",
                violation_error_message=_(
                    "A reconciliation run is signed off by someone other than its preparer."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.SIGNED_OFF) | Q(signed_off_by__isnull=False),
                name="reconciliation_run_signed_off_has_signer",
            ),
        ]

    def __str__(self):
        return f"{self.account.code} {self.period_start}–{self.period_end}"
