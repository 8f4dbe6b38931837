"""The company's receiving accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contracts.models import MONEY_DIGITS
from feemgmt.core.models import TimeStampedModel

from ..choices import (
    AccountKind,
    StatementFormat,
)

MONEY = {
    **MONEY_DIGITS,
    "currency_choices": settings.CURRENCY_CHOICES,
    "default_currency": settings.DEFAULT_CURRENCY,
}


class BankAccount(TimeStampedModel):
    """One of the company's receiving accounts: a bank account customers transfer
    to, or a gateway merchant account whose bills report what it took."""

    code = models.SlugField(
        _("code"), max_length=32, unique=True, help_text=_("Short name used in commands.")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("account type"), max_length=16, choices=AccountKind.choices, default=AccountKind.BANK
    )
    bank = models.CharField(_("bank"), max_length=100, blank=True)
    account_number = models.CharField(
        _("account number"),
        max_length=64,
        help_text=_("Account number or IBAN; for a gateway, the merchant id."),
    )
    holder = models.CharField(_("account holder"), max_length=200, blank=True)
    payout_name = models.CharField(
        _("name on payouts"),
        max_length=200,
        blank=True,
        help_text=_(
            "For a gateway: the payer name its payouts carry on bank statements "
            "(e.g. 支付宝（中国）网络技术有限公司), so they are matched to its clearing account."
        ),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        choices=settings.CURRENCY_CHOICES,
        default=settings.DEFAULT_CURRENCY,
    )
    default_format = models.CharField(
        _("default format"),
        max_length=16,
        choices=StatementFormat.choices,
        blank=True,
        help_text=_("Leave empty to detect the format of each file."),
    )
    column_mapping = models.JSONField(
        _("column mapping"),
        null=True,
        blank=True,
        help_text=_(
            "How this bank's CSV/Excel export names its columns; empty to use the "
            "built-in mapping that recognises the file."
        ),
    )
    receives_transfers = models.BooleanField(
        _("shown on payment notices"),
        default=False,
        help_text=_("Customers paying by bank transfer are told to pay into this account."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("receiving account")
        verbose_name_plural = _("receiving accounts")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency"],
                condition=Q(receives_transfers=True, active=True),
                name="bank_account_one_transfer_account_per_currency",
                violation_error_message=_(
                    "Another active account is already shown on payment notices in this currency."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name} ({self.masked_number})"

    @property
    def payment_method(self) -> str:
        """The payment method whose clearing account a gateway account settles."""
        return "" if self.kind == AccountKind.BANK else self.kind

    @property
    def masked_number(self) -> str:
        """The last four characters, as staff and customers expect to see an account."""
        number = self.account_number.replace(" ", "")
        if len(number) <= 4:
            return number
        return "•••• " + number[-4:]
