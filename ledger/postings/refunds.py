"""Money going back: a refund through the method it came by, and the reversal
of a posting."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money

from ..choices import AccountPurpose, EntryKind, normal_sign
from ..models import JournalEntry, JournalLine
from ..selectors import account_balance, subject_balance
from ..services import accounts_lock, journal_post, journal_reverse
from .rules import (
    D,
    P,
    R,
    already_posted,
    charge_subject,
    clearing_account,
    company_account,
    customer_account,
    natural_balance,
    not_above,
    require_positive,
)


@transaction.atomic
def post_refund(
    *,
    customer_id: int,
    amount: Money,
    method: str,
    reference: str,
    charge_id: int,
    on: dt.date,
) -> JournalEntry:
    """Pay back money collected for a charge, through the method it came by."""
    require_positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    customer_accounts = [customer_account(customer_id, currency, purpose) for purpose in (R, P, D)]
    clearing = clearing_account(method, currency)
    accounts_lock(customer_accounts)
    credited = set(
        JournalLine.objects.filter(
            entry__kind=EntryKind.PAYMENT, entry__subject=subject, account__in=customer_accounts
        ).values_list("account__purpose", flat=True)
    )
    if len(credited) != 1:
        raise BusinessError(
            {"amount": [_("Nothing was collected for this charge from this customer.")]},
            code="insufficient",
        )
    purpose = credited.pop()
    debited = {
        R: company_account(AccountPurpose.FEE_INCOME, currency),
        P: customer_accounts[1],
        D: customer_accounts[2],
    }[purpose]
    kind = EntryKind.DEPOSIT_REFUND if purpose == D else EntryKind.REFUND
    if not already_posted(kind, reference):
        not_above(
            amount,
            subject_balance(account=clearing, subject=subject),
            _("%(amount)s is more than the %(available)s collected and not yet refunded."),
        )
        if purpose in (P, D):
            not_above(
                amount,
                natural_balance(debited),
                _("%(amount)s is more than the %(available)s the customer still holds."),
            )
    return journal_post(
        kind=kind,
        reference=reference,
        subject=subject,
        currency=currency,
        on=on,
        lines=[(debited, amount), (clearing, -amount)],
    )


@transaction.atomic
def post_prepaid_refund(
    *, customer_id: int, amount: Money, method: str, reference: str, on: dt.date
) -> JournalEntry:
    """Pay back part of the customer's prepaid balance (an overpayment's excess, a
    charge paid twice) through the method the money came by: never more than the
    balance holds."""
    require_positive(amount)
    currency = amount.currency.code
    prepaid = customer_account(customer_id, currency, P)
    clearing = clearing_account(method, currency)
    accounts_lock([prepaid])
    if not already_posted(EntryKind.REFUND, reference):
        not_above(
            amount,
            natural_balance(prepaid),
            _("%(amount)s is more than the prepaid balance of %(available)s."),
        )
    return journal_post(
        kind=EntryKind.REFUND,
        reference=reference,
        currency=currency,
        on=on,
        lines=[(prepaid, amount), (clearing, -amount)],
    )


@transaction.atomic
def post_reversal(*, entry: JournalEntry, on: dt.date, reference: str) -> JournalEntry:
    """Cancel a posting, unless undoing it would break the rules above (a customer
    balance, what is receivable on a charge, or its cash, going below zero)."""
    lines = list(entry.lines.select_related("account").order_by("id"))
    customer_accounts = [line.account for line in lines if line.account.customer_id]
    accounts_lock(customer_accounts)
    if not already_posted(EntryKind.REVERSAL, reference):
        for line in lines:
            account = line.account
            if account.customer_id:
                after = account_balance(account).amount - line.amount
                if after * normal_sign(account.purpose) < 0:
                    raise BusinessError(
                        {
                            "entry": [
                                _("Reversing this entry would overdraw %(account)s.")
                                % {"account": account.get_purpose_display()}
                            ]
                        },
                        code="insufficient",
                    )
            if entry.subject and account.purpose in (R, AccountPurpose.CLEARING):
                left = subject_balance(account=account, subject=entry.subject).amount
                if left - line.amount < 0:
                    raise BusinessError(
                        {
                            "entry": [
                                _(
                                    "Reversing this entry would leave the charge "
                                    "with more settled or refunded than it had."
                                )
                            ]
                        },
                        code="insufficient",
                    )
    return journal_reverse(entry=entry, on=on, reference=reference)
