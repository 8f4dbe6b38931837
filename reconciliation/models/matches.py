"""How lines were explained, and what is still unexplained."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models import Charge
from feemgmt.core.models import TimeStampedModel
from payments.models import PaymentAttempt, Refund, WriteOffRequest

from ..choices import (
    DiscrepancyKind,
    DiscrepancyStatus,
    MatchEffect,
    MatchMethod,
    MatchStatus,
)
from .accounts import MONEY, BankAccount
from .statements import StatementLine


class Match(TimeStampedModel):
    """A line explained by a charge: found exactly by a reference, or suggested by
    amount, date and payer for a clerk to confirm or reject."""

    line = models.ForeignKey(
        StatementLine,
        on_delete=models.PROTECT,
        related_name="matches",
        verbose_name=_("statement line"),
    )
    charge = models.ForeignKey(
        Charge,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_matches",
        verbose_name=_("charge"),
    )
    attempt = models.ForeignKey(
        PaymentAttempt,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_matches",
        verbose_name=_("payment attempt"),
    )
    refund = models.ForeignKey(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_matches",
        verbose_name=_("refund"),
    )
    method = models.CharField(_("found by"), max_length=16, choices=MatchMethod.choices)
    status = models.CharField(_("status"), max_length=16, choices=MatchStatus.choices)
    effect = models.CharField(_("effect"), max_length=16, choices=MatchEffect.choices, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), default=100)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        ordering = ["line_id", "-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["line"],
                condition=Q(status=MatchStatus.CONFIRMED),
                name="match_one_confirmed_per_line",
            ),
            models.UniqueConstraint(
                fields=["line", "charge"],
                condition=Q(status=MatchStatus.SUGGESTED),
                name="match_one_suggestion_per_line_and_charge",
            ),
        ]

    def __str__(self):
        return f"{self.line} → {self.charge_id or self.refund_id}"


class Discrepancy(TimeStampedModel):
    """Something the statement and the books disagree on, until a person resolves it."""

    kind = models.CharField(_("type"), max_length=24, choices=DiscrepancyKind.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DiscrepancyStatus.choices,
        default=DiscrepancyStatus.OPEN,
    )
    account = models.ForeignKey(
        BankAccount,
        on_delete=models.PROTECT,
        related_name="discrepancies",
        verbose_name=_("receiving account"),
    )
    line = models.ForeignKey(
        StatementLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discrepancies",
        verbose_name=_("statement line"),
    )
    charge = models.ForeignKey(
        Charge,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discrepancies",
        verbose_name=_("charge"),
    )
    amount = MoneyField(_("amount"), null=True, blank=True, **MONEY)
    message = models.TextField(_("what is wrong"))
    write_off = models.OneToOneField(
        WriteOffRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discrepancy",
        verbose_name=_("write-off request"),
    )
    refund = models.OneToOneField(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discrepancy",
        verbose_name=_("refund"),
    )
    resolution = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "line"],
                condition=Q(line__isnull=False),
                name="discrepancy_one_per_kind_and_line",
            ),
            models.UniqueConstraint(
                fields=["kind", "charge"],
                condition=Q(line__isnull=True, status=DiscrepancyStatus.OPEN),
                name="discrepancy_one_open_per_kind_and_charge",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"
