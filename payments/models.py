"""Collection records: payment attempts, refunds, write-off approvals, mandates and
direct-debit batches, and the notifications gateways sent us.

The guarantees live in the database, not in look-ups before writing:

- an attempt's idempotency key is unique and derived from (charge, attempt number),
  so a repeated or crashed task that opens "attempt 2" again gets the same key, and
  the gateway sees the same payment;
- a charge has at most one attempt in progress (a customer may still pay twice, by
  two QR codes say: the second payment is booked to their prepaid balance);
- a gateway's payment id belongs to one attempt per payment method;
- a write-off is approved by someone other than the person who asked for it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.models import Charge
from contracts.models import MONEY_DIGITS, Customer
from feemgmt.core.models import TimeStampedModel

from .choices import (
    OPEN_ATTEMPT_STATUSES,
    ApprovalStatus,
    AttemptStatus,
    MandateStatus,
    RefundStatus,
)
from .validators import validate_bic, validate_iban

_MONEY = {
    **MONEY_DIGITS,
    "currency_choices": settings.CURRENCY_CHOICES,
    "default_currency": settings.DEFAULT_CURRENCY,
}


def attempt_key(charge_id: int, number: int) -> str:
    """The idempotency key of a charge's n-th attempt: ``CH000042-01``.

    Derived, never random: whoever opens attempt n of a charge, however often,
    asks the gateway with the same key (6-32 characters, as every gateway takes).
    """
    return f"CH{charge_id:06d}-{number:02d}"


def refund_key(attempt_id: int, number: int) -> str:
    return f"RF{attempt_id:06d}-{number:02d}"


class Mandate(TimeStampedModel):
    """A customer's authorisation to collect by direct debit from their account."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="mandates", verbose_name=_("customer")
    )
    reference = models.CharField(
        _("mandate reference"),
        max_length=35,
        unique=True,
        help_text=_("Unique mandate reference quoted on every debit (up to 35 characters)."),
    )
    signed_on = models.DateField(_("signed on"))
    debtor_name = models.CharField(_("account holder"), max_length=70)
    debtor_iban = models.CharField(
        _("debtor account (IBAN)"), max_length=34, validators=[validate_iban]
    )
    debtor_bic = models.CharField(
        _("debtor bank (BIC)"), max_length=11, blank=True, validators=[validate_bic]
    )
    limit = MoneyField(
        _("limit per charge"),
        null=True,
        blank=True,
        help_text=_("A charge above this amount is not debited; leave empty for no limit."),
        **_MONEY,
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status=MandateStatus.ACTIVE),
                name="mandate_one_active_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(limit__isnull=True) | Q(limit__gt=0), name="mandate_limit_positive"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("signed_on")),
                name="mandate_ends_after_signing",
                violation_error_message=_("A mandate cannot end before it is signed."),
            ),
        ]

    def __str__(self):
        return self.reference


class DirectDebitBatch(TimeStampedModel):
    """One pain.008 file: the direct debits submitted to the bank together."""

    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    collection_date = models.DateField(_("collection date"))
    transactions = models.PositiveIntegerField(_("debits"))
    control_sum = models.DecimalField(_("control sum"), **MONEY_DIGITS)
    currency = models.CharField(_("currency"), max_length=3)
    document = models.TextField(_("pain.008 document"))

    class Meta:
        verbose_name = _("direct debit batch")
        verbose_name_plural = _("direct debit batches")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.message_id


class PaymentAttempt(TimeStampedModel):
    """One try to collect (the rest of) a charge through its payment method."""

    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("charge")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=32, unique=True)
    method = models.CharField(_("payment method"), max_length=32)
    amount = MoneyField(_("amount"), **_MONEY)
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
        indexes = [models.Index(fields=["status", "method"])]
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
    amount = MoneyField(_("amount"), **_MONEY)
    reason = models.CharField(_("reason"), max_length=200)
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


class WriteOffRequest(models.Model):
    """Giving up on what is left of a charge: asked by one user, decided by another."""

    charge = models.ForeignKey(
        Charge,
        on_delete=models.PROTECT,
        related_name="write_off_requests",
        verbose_name=_("charge"),
    )
    amount = MoneyField(_("amount"), **_MONEY)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.REQUESTED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

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
