"""Standing authorisations to debit a customer, and the bank files sent under them."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from contracts.models import MONEY_DIGITS, Customer
from feemgmt.core.models import TimeStampedModel

from ..choices import (
    MandateStatus,
)
from ..validators import validate_bic, validate_iban
from .keys import MONEY


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
        **MONEY,
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
