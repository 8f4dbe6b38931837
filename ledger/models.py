"""The double-entry ledger: accounts, journal entries and their lines.

Balances are never stored: an account's balance is the sum of its lines, so a
balance can never disagree with the movements that explain it. Lines are signed
(debit positive, credit negative) and every entry's lines sum to zero in the
entry's single currency; :func:`ledger.services.journal_post` is the only
writer and refuses anything else.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contracts.models import MONEY_DIGITS, Customer

from .choices import COMPANY_PURPOSES, CUSTOMER_PURPOSES, AccountPurpose, EntryKind

# A line holds one movement; two more digits than a stored charge leave room for
# amounts a single movement may gather (a prepayment covering many charges).
LINE_DIGITS = {
    "max_digits": MONEY_DIGITS["max_digits"] + 2,
    "decimal_places": MONEY_DIGITS["decimal_places"],
}


class Account(models.Model):
    """One ledger account in one currency.

    Customer accounts (receivable, prepaid balance, deposit held) belong to a
    customer; company accounts (clearing per payment method, fee income,
    write-off) have none. The database keeps one account per purpose, owner and
    currency, so :func:`ledger.services.account_for` can get-or-create safely.
    """

    purpose = models.CharField(_("purpose"), max_length=16, choices=AccountPurpose.choices)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        verbose_name=_("customer"),
    )
    payment_method = models.CharField(_("payment method"), max_length=32, blank=True)
    # the receiving account a cash account mirrors (reconciliation's BankAccount.code)
    bank_account = models.CharField(_("receiving account"), max_length=32, blank=True)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["purpose", "currency", "customer_id", "payment_method"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "customer", "currency"],
                condition=Q(customer__isnull=False),
                name="ledger_account_unique_customer",
            ),
            models.UniqueConstraint(
                fields=["purpose", "payment_method", "bank_account", "currency"],
                condition=Q(customer__isnull=True),
                name="ledger_account_unique_company",
            ),
            models.CheckConstraint(
                condition=(Q(purpose__in=sorted(CUSTOMER_PURPOSES)) & Q(customer__isnull=False))
                | (Q(purpose__in=sorted(COMPANY_PURPOSES)) & Q(customer__isnull=True)),
                name="ledger_account_owner_matches_purpose",
            ),
            models.CheckConstraint(
                condition=(Q(purpose=AccountPurpose.CLEARING) & ~Q(payment_method=""))
                | (~Q(purpose=AccountPurpose.CLEARING) & Q(payment_method="")),
                name="ledger_account_method_iff_clearing",
            ),
            models.CheckConstraint(
                condition=(Q(purpose=AccountPurpose.CASH) & ~Q(bank_account=""))
                | (~Q(purpose=AccountPurpose.CASH) & Q(bank_account="")),
                name="ledger_account_bank_iff_cash",
            ),
        ]

    def __str__(self):
        owner = (
            (self.customer_id and f"#{self.customer_id}")
            or self.payment_method
            or self.bank_account
        )
        return " ".join(
            part for part in (str(self.get_purpose_display()), owner, self.currency) if part
        )


class JournalEntry(models.Model):
    """One money movement, posted once.

    (kind, reference) is unique: it is the idempotency key, so a task that runs
    twice posts once. ``subject`` names the charge the movement concerns
    (``charge:123``); entries about one charge are summed to cap its payments,
    refunds and write-offs. A reversal points at the entry it cancels, and an
    entry is reversed at most once.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    reference = models.CharField(_("reference"), max_length=100)
    subject = models.CharField(
        _("subject"),
        max_length=100,
        blank=True,
        db_index=True,
        help_text=_("The charge this entry concerns, e.g. charge:123."),
    )
    currency = models.CharField(_("currency"), max_length=3)
    effective_on = models.DateField(_("effective date"))
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-effective_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference"], name="ledger_entry_unique_kind_reference"
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.REVERSAL, reverses__isnull=False)
                | (~Q(kind=EntryKind.REVERSAL) & Q(reverses__isnull=True)),
                name="ledger_entry_reversal_iff_reverses",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference}"


class JournalLine(models.Model):
    """A signed amount on one account: debit positive, credit negative."""

    entry = models.ForeignKey(
        JournalEntry,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("journal entry"),
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("account"),
        db_index=False,  # led by the (account, entry) index below
    )
    amount = models.DecimalField(_("amount"), **LINE_DIGITS)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ["entry_id", "id"]
        indexes = [models.Index(fields=["account", "entry"], name="ledger_line_account_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_line_amount_not_zero"),
        ]

    def __str__(self):
        return f"{self.account} {self.amount}"
