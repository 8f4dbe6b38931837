"""Imported statements and their lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from contracts.models import MONEY_DIGITS
from feemgmt.core.models import TimeStampedModel

from ..choices import (
    LineKind,
    LineStatus,
    StatementFormat,
)
from .accounts import MONEY, BankAccount


class Statement(TimeStampedModel):
    """One imported file."""

    account = models.ForeignKey(
        BankAccount,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("receiving account"),
    )
    format = models.CharField(_("format"), max_length=16, choices=StatementFormat.choices)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    digest = models.CharField(_("file SHA-256"), max_length=64)
    mapping = models.CharField(_("column mapping"), max_length=64, blank=True)
    statement_ids = models.CharField(_("statement ids"), max_length=255, blank=True)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    opening_balance = models.DecimalField(
        _("opening balance"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    closing_balance = models.DecimalField(
        _("closing balance"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    lines_read = models.PositiveIntegerField(_("lines read"), default=0)
    lines_new = models.PositiveIntegerField(_("new lines"), default=0)
    lines_duplicate = models.PositiveIntegerField(_("duplicates skipped"), default=0)
    summary = models.JSONField(_("result"), default=dict, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "digest"], name="statement_unique_file_per_account"
            ),
        ]

    def __str__(self):
        return f"{self.account.code} {self.filename or self.digest[:12]}"


class StatementLine(models.Model):
    """One movement on a statement, signed from the account's side (+ money in)."""

    # No index of their own: (statement, line_no) and the unique (account,
    # fingerprint) lead with them, and each index is one more write per line imported.
    statement = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("statement"),
        db_index=False,
    )
    account = models.ForeignKey(
        BankAccount,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("receiving account"),
        db_index=False,
    )
    line_no = models.PositiveIntegerField(_("line number"))
    booked_on = models.DateField(_("booked on"))
    value_on = models.DateField(_("value date"), null=True, blank=True)
    amount = MoneyField(_("amount"), **MONEY)
    fee = models.DecimalField(_("gateway fee"), default=0, **MONEY_DIGITS)
    kind = models.CharField(_("line type"), max_length=16, choices=LineKind.choices)
    reference = models.CharField(_("bank reference"), max_length=140, blank=True)
    narrative = models.TextField(_("narrative"), blank=True)
    counterparty_name = models.CharField(_("payer / payee"), max_length=200, blank=True)
    counterparty_account = models.CharField(_("their account"), max_length=64, blank=True)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=64, blank=True)
    out_trade_no = models.CharField(_("merchant order number"), max_length=64, blank=True)
    gateway_trade_no = models.CharField(_("gateway transaction id"), max_length=64, blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=LineStatus.choices, default=LineStatus.UNMATCHED
    )
    raw = models.JSONField(_("as read"), default=dict, blank=True)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement_id", "line_no", "id"]
        indexes = [
            models.Index(fields=["status", "booked_on"]),
            models.Index(fields=["statement", "line_no"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "fingerprint"], name="statement_line_unique_fingerprint"
            ),
        ]

    def __str__(self):
        return f"{self.statement_id}:{self.line_no} {self.booked_on} {self.amount}"
