from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    """Where money reaches the company: a bank account, or a gateway's merchant
    balance (which later pays out to a bank account)."""

    BANK = "bank", _("Bank account")
    ALIPAY = "alipay", _("Alipay merchant account")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay merchant account")


class StatementFormat(models.TextChoices):
    CSV = "csv", _("Bank export (CSV)")
    XLSX = "xlsx", _("Bank export (Excel .xlsx)")
    XLS = "xls", _("Bank export (Excel .xls)")
    MT940 = "mt940", _("SWIFT MT940")
    CAMT053 = "camt053", _("ISO 20022 camt.053 statement")
    CAMT054 = "camt054", _("ISO 20022 camt.054 debit/credit notification")
    PAIN002 = "pain002", _("ISO 20022 pain.002 payment status report")
    ALIPAY = "alipay", _("Alipay bill")
    WECHAT = "wechat", _("WeChat Pay bill")


# Formats whose lines are movements on the account (the others are replies about
# direct debits, applied to the attempts they name).
MOVEMENT_FORMATS = frozenset(
    {
        StatementFormat.CSV,
        StatementFormat.XLSX,
        StatementFormat.XLS,
        StatementFormat.MT940,
        StatementFormat.CAMT053,
        StatementFormat.ALIPAY,
        StatementFormat.WECHAT,
    }
)


class LineKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer")
    PAYMENT = "payment", pgettext_lazy("statement line kind", "Payment")
    REFUND = "refund", pgettext_lazy("statement line kind", "Refund")
    REVERSAL = "reversal", pgettext_lazy("statement line kind", "Reversal")
    RETURN = "return", _("Returned debit")
    FEE = "fee", _("Fee")
    PAYOUT = "payout", _("Payout")
    OTHER = "other", _("Other")


class LineStatus(models.TextChoices):
    """Where a statement line stands in reconciliation."""

    UNMATCHED = "unmatched", _("Unmatched")
    SUGGESTED = "suggested", _("Suggested match")
    MATCHED = "matched", _("Matched")
    IGNORED = "ignored", _("Not ours")


class MatchMethod(models.TextChoices):
    REFERENCE = "reference", _("Remittance reference")
    ORDER_NUMBER = "order_number", _("Merchant order number")
    END_TO_END = "end_to_end", _("End-to-end id")
    SUGGESTION = "suggestion", _("Amount, date and payer")
    PAYOUT = "payout", _("Gateway payout")
    FEE = "fee", _("Gateway fee")
    MANUAL = "manual", _("Assigned by staff")


class MatchStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class MatchEffect(models.TextChoices):
    """What matching a line did to the charge it pays."""

    SETTLED = "settled", _("Settled the charge")
    PARTIAL = "partial", _("Paid part of the charge")
    OVERPAID = "overpaid", _("Settled the charge; the excess went to the prepaid balance")
    DUPLICATE = "duplicate", _("Paid again; credited to the prepaid balance")
    CONFIRMED = "confirmed", _("Confirmed a payment already booked")
    REFUND = "refund", _("Confirmed a refund")
    HELD = "held", _("Not booked: the amount differs from what was asked")
    PAYOUT = "payout", _("A gateway paid out its balance")
    FEE = "fee", _("A gateway kept its fee")


class DiscrepancyKind(models.TextChoices):
    UNMATCHED_LINE = "unmatched_line", _("Statement line with no matching charge")
    MISSING_PAYMENT = "missing_payment", _("Expected payment missing from the statement")
    PARTIAL_PAYMENT = "partial_payment", _("Partial payment")
    OVERPAYMENT = "overpayment", _("Overpayment")
    DUPLICATE_PAYMENT = "duplicate_payment", _("Duplicate payment")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs from what was asked")
    REVERSAL = "reversal", _("Reversal or refund line")


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("discrepancy status", "Open")
    RESOLVED = "resolved", _("Resolved")
    WAIVED = "waived", _("Waived")


class RunStatus(models.TextChoices):
    PREPARED = "prepared", _("Prepared, awaiting sign-off")
    SIGNED_OFF = "signed_off", _("Signed off")
    REOPENED = "reopened", _("Reopened")


# The reconciliation run's state machine: every change is one service that locks the
# run and checks this table (reconciliation/services/runs.py).
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    RunStatus.PREPARED: frozenset({RunStatus.PREPARED, RunStatus.SIGNED_OFF}),
    RunStatus.SIGNED_OFF: frozenset({RunStatus.REOPENED}),
    RunStatus.REOPENED: frozenset({RunStatus.PREPARED}),
}
