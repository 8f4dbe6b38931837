"""Reads of reconciliation rows that more than one caller needs (API, admin)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from billing.models import Charge
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from .choices import MatchStatus
from .models import BankAccount, Discrepancy, Match, Statement, StatementLine


def bank_account_list() -> QuerySet[BankAccount]:
    return BankAccount.objects.all()


def statement_list() -> QuerySet[Statement]:
    return Statement.objects.select_related("account")


def statement_line_list() -> QuerySet[StatementLine]:
    """Lines with their confirmed match (and suggestions) fetched in one more query
    per page, never one per line."""
    return StatementLine.objects.prefetch_related(
        Prefetch(
            "matches",
            queryset=Match.objects.exclude(status=MatchStatus.REJECTED).order_by("-score", "id"),
            to_attr="live_matches",
        )
    )


def match_list() -> QuerySet[Match]:
    return Match.objects.select_related("line", "attempt")


def discrepancy_list() -> QuerySet[Discrepancy]:
    return Discrepancy.objects.select_related("account", "line")


@dataclass(frozen=True)
class TransferInstructions:
    """How to pay a bank-transfer charge: where to, and what to write as the
    remittance note so the statement line finds its charge."""

    payment_reference: str | None
    account: BankAccount | None


def transfer_instructions(charge: Charge) -> TransferInstructions | None:
    """None unless the charge is paid by bank transfer."""
    if charge.contract.payment_method != "bank_transfer":
        return None
    reference = (
        PaymentAttempt.objects.filter(
            charge=charge, method="bank_transfer", status=AttemptStatus.PENDING
        )
        .exclude(provider_reference=None)
        .values_list("provider_reference", flat=True)
        .first()
    )
    account = BankAccount.objects.filter(
        receives_transfers=True, active=True, currency=charge.amount.currency.code
    ).first()
    return TransferInstructions(payment_reference=reference, account=account)
