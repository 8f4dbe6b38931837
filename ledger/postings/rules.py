"""What every posting checks: the accounts it may touch and the caps it keeps
(see the package's table)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from contracts.choices import SigningTreatment
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money

from ..choices import AccountPurpose, normal_sign
from ..models import Account, JournalEntry
from ..selectors import account_balance
from ..services import account_for

R, P, D = AccountPurpose.RECEIVABLE, AccountPurpose.PREPAID, AccountPurpose.DEPOSIT_HELD
TREATMENT_ACCOUNT = {
    SigningTreatment.FEE: R,
    SigningTreatment.PREPAYMENT: P,
    SigningTreatment.DEPOSIT: D,
}


def charge_subject(charge_id: int) -> str:
    return f"charge:{charge_id}"


def customer_account(customer_id: int, currency: str, purpose: str) -> Account:
    return account_for(purpose=purpose, currency=currency, customer_id=customer_id)


def clearing_account(method: str, currency: str) -> Account:
    return account_for(purpose=AccountPurpose.CLEARING, currency=currency, payment_method=method)


def company_account(purpose: str, currency: str) -> Account:
    return account_for(purpose=purpose, currency=currency)


def require_positive(amount: Money) -> None:
    if not isinstance(amount, Money) or amount.amount <= 0:
        raise BusinessError({"amount": [_("The amount must be a positive sum of money.")]})


def checked_treatment(treatment: str | None) -> str:
    treatment = treatment or SigningTreatment.FEE
    if treatment not in TREATMENT_ACCOUNT:
        raise BusinessError(
            {"treatment": [_("Unknown treatment “%(value)s”.") % {"value": treatment}]}
        )
    return treatment


def already_posted(kind: str, reference: str) -> bool:
    return JournalEntry.objects.filter(kind=kind, reference=reference).exists()


def natural_balance(account: Account) -> Money:
    """The balance on the account's normal side (what the customer owes or holds)."""
    return account_balance(account) * normal_sign(account.purpose)


def not_above(amount: Money, limit: Money, message: str) -> None:
    if amount > limit:
        raise BusinessError(
            {"amount": [message % {"amount": amount.amount, "available": limit.amount}]},
            code="insufficient",
        )
