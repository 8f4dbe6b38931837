from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountPurpose(models.TextChoices):
    """What an account holds. The first three belong to one customer, the others
    to the company (clearing accounts exist once per payment method)."""

    RECEIVABLE = "receivable", _("Receivable")
    PREPAID = "prepaid", _("Prepaid balance")
    DEPOSIT_HELD = "deposit_held", _("Deposit held")
    CLEARING = "clearing", _("Clearing")
    FEE_INCOME = "fee_income", _("Fee income")
    WRITE_OFF = "write_off", _("Write-off")
    CASH = "cash", _("Cash at bank")
    GATEWAY_FEES = "gateway_fees", _("Gateway fees")


CUSTOMER_PURPOSES = frozenset(
    {AccountPurpose.RECEIVABLE, AccountPurpose.PREPAID, AccountPurpose.DEPOSIT_HELD}
)
COMPANY_PURPOSES = frozenset(
    {
        AccountPurpose.CLEARING,
        AccountPurpose.FEE_INCOME,
        AccountPurpose.WRITE_OFF,
        AccountPurpose.CASH,
        AccountPurpose.GATEWAY_FEES,
    }
)
# Assets and expenses grow with debits (positive lines); liabilities and income
# grow with credits (negative lines).
DEBIT_NORMAL = frozenset(
    {
        AccountPurpose.RECEIVABLE,
        AccountPurpose.CLEARING,
        AccountPurpose.WRITE_OFF,
        AccountPurpose.CASH,
        AccountPurpose.GATEWAY_FEES,
    }
)


def normal_sign(purpose: str) -> int:
    """+1 for debit-normal accounts, -1 for credit-normal ones."""
    return 1 if purpose in DEBIT_NORMAL else -1


class EntryKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    PREPAYMENT = "prepayment", _("Prepayment")
    PAYMENT = "payment", _("Payment")
    PREPAID_APPLIED = "prepaid_applied", _("Prepaid balance applied")
    REFUND = "refund", _("Refund")
    WRITE_OFF = "write_off", _("Write-off")
    DEPOSIT_REFUND = "deposit_refund", _("Deposit refund")
    DEPOSIT_APPLIED = "deposit_applied", _("Deposit applied")
    REVERSAL = "reversal", _("Reversal")
    CASH_RECEIPT = "cash_receipt", _("Received at the bank")
    CASH_PAYMENT = "cash_payment", _("Paid out by the bank")
    GATEWAY_FEE = "gateway_fee", _("Gateway fee")
