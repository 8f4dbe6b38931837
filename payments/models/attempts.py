"""Payment attempts, the notifications gateways sent about them, and the notices
customers were sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models import Charge
from contracts.models import Customer
from feemgmt.core.models import TimeStampedModel

from ..choices import (
    OPEN_ATTEMPT_STATUSES,
    AttemptStatus,
)
from .keys import MONEY
from .mandates import DirectDebitBatch, Mandate


class PaymentAttempt(TimeStampedModel):
    """One try to collect (the rest of) a charge through its payment method."""

    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("charge")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=32, unique=True)
    method = models.CharField(_("payment method"), max_length=32)
    amount = MoneyField(_("amount"), **MONEY)
    status = models.CharField(
        _("status"), max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.PENDING
    )
    # NULL until the gateway names the payment; unique when set (NULLs never clash).
    provider_reference = models.CharField(  # noqa: DJ001
        _("gateway reference"), max_length=64, null=True, blank=True
    )
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    action_kind = models.CharField(_("customer action"), max_length=32, blank=True)
    action_value = models.TextField(_("customer action detail"), blank=True)
    raw = models.JSONField(_("gateway exchange"), default=dict, blank=True)
    mandate = models.ForeignKey(
        Mandate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attempts",
        verbose_name=_("mandate"),
    )
    batch = models.ForeignKey(
        DirectDebitBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attempts",
        verbose_name=_("direct debit batch"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "method"]),
            # the dashboard's "collected / failed today": a day's decided attempts
            models.Index(
                fields=["decided_at"],
                condition=Q(decided_at__isnull=False),
                name="attempt_decided_at",
            ),
            # the API's list, newest first by cursor, and its day range
            models.Index(fields=["created_at", "id"], name="attempt_created_at_id"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["charge", "number"], name="attempt_unique_number"),
            models.UniqueConstraint(
                fields=["charge"],
                condition=Q(status__in=[s.value for s in OPEN_ATTEMPT_STATUSES]),
                name="attempt_one_open_per_charge",
            ),
            models.UniqueConstraint(
                fields=["method", "provider_reference"],
                condition=Q(provider_reference__isnull=False),
                name="attempt_unique_provider_reference",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="attempt_amount_positive"),
        ]

    def __str__(self):
        return self.idempotency_key

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ATTEMPT_STATUSES


class InboundNotification(models.Model):
    """Every notification a gateway sent us, accepted or refused (for support)."""

    method = models.CharField(_("payment method"), max_length=32)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    accepted = models.BooleanField(_("accepted"))
    reason = models.CharField(_("refusal reason"), max_length=32, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=32, blank=True)
    provider_reference = models.CharField(_("gateway reference"), max_length=64, blank=True)
    attempt = models.ForeignKey(
        PaymentAttempt,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("payment attempt"),
    )
    raw = models.JSONField(_("content"), default=dict, blank=True)

    class Meta:
        verbose_name = _("gateway notification")
        verbose_name_plural = _("gateway notifications")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.method} {self.received_at:%Y-%m-%d %H:%M:%S}"


class SentNotice(models.Model):
    """An e-mail a customer was sent, once: (kind, key) is unique, so a repeated task
    or a second worker does not send the same notice twice."""

    kind = models.CharField(_("kind"), max_length=32)
    key = models.CharField(_("about"), max_length=64)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    recipient = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=200)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer notice")
        verbose_name_plural = _("customer notices")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="notice_sent_once"),
        ]

    def __str__(self):
        return f"{self.kind} {self.key}"
