"""Money given back or given up: refunds and write-off requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models import Charge
from feemgmt.core.models import TimeStampedModel

from ..choices import (
    ApprovalStatus,
    RefundSource,
    RefundStatus,
)
from .approvals import Approval
from .attempts import PaymentAttempt
from .keys import MONEY


class Refund(TimeStampedModel):
    """Money given back from a successful attempt, never more than it collected."""

    attempt = models.ForeignKey(
        PaymentAttempt,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("payment attempt"),
    )
    number = models.PositiveSmallIntegerField(_("refund"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=32, unique=True)
    amount = MoneyField(_("amount"), **MONEY)
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(
        _("refunded from"),
        max_length=16,
        choices=RefundSource.choices,
        default=RefundSource.PAYMENT,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    # NULL until the gateway names the payment; unique when set (NULLs never clash).
    provider_reference = models.CharField(  # noqa: DJ001
        _("gateway reference"), max_length=64, null=True, blank=True
    )
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    raw = models.JSONField(_("gateway exchange"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "number"], name="refund_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return self.idempotency_key


class WriteOffRequest(Approval):
    """Giving up on what is left of a charge: asked by one user, decided by another."""

    charge = models.ForeignKey(
        Charge,
        on_delete=models.PROTECT,
        related_name="write_off_requests",
        verbose_name=_("charge"),
    )
    amount = MoneyField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("write-off request")
        verbose_name_plural = _("write-off requests")
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_writeoffrequest", _("Can approve write-offs"))]
        constraints = [
            models.UniqueConstraint(
                fields=["charge"],
                condition=Q(status=ApprovalStatus.REQUESTED),
                name="write_off_one_open_request_per_charge",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="write_off_decided_by_another_user",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="write_off_amount_positive"),
        ]

    def __str__(self):
        return f"{self.charge} {self.amount}"
