"""The domain's money movements, each one journal entry on accounts chosen here.

==================  ======================  =======================  =====================
posting             debit                   credit                   kind / reference
==================  ======================  =======================  =====================
post_charge (fee)   RECEIVABLE (customer)   FEE_INCOME               charge / charge:<id>
post_payment fee    CLEARING (method)       RECEIVABLE               payment / <given>
post_payment prep.  CLEARING (method)       PREPAID                  payment / <given>
post_payment dep.   CLEARING (method)       DEPOSIT_HELD             payment / <given>
post_prepayment     CLEARING (method)       PREPAID                  prepayment / <given>
apply_prepaid       PREPAID                 RECEIVABLE               prepaid_applied / charge:<id>
post_refund fee     FEE_INCOME              CLEARING (method)        refund / <given>
post_refund prep.   PREPAID                 CLEARING (method)        refund / <given>
post_refund dep.    DEPOSIT_HELD            CLEARING (method)        deposit_refund / <given>
post_write_off      WRITE_OFF               RECEIVABLE               write_off / charge:<id>
post_reversal       the original's lines, negated                    reversal / <given>
==================  ======================  =======================  =====================

Decisions a finance team would expect, where the design was silent:

- **Signing charges treated as prepayment or deposit post nothing when billed.**
  Until the money arrives the customer has no spendable balance and we hold no
  deposit, and such a charge is not income; a receivable against an unfunded
  liability would only show a balance the customer cannot use. The money is
  booked when collected: ``post_payment(treatment=prepayment|deposit)`` credits
  PREPAID or DEPOSIT_HELD directly. A zero-amount charge posts nothing either.
- **Every entry about a charge carries its subject** ``charge:<id>``; the caps
  are per charge, summed from those entries: a fee payment, prepaid application
  or write-off never exceeds what is still receivable on the charge, and a
  refund never exceeds the cash collected for the charge through that method
  less what was already refunded through it (reversals included). A refund
  undoes what the payment credited: fee income, prepaid balance (which must
  still be there) or the deposit held (kind ``deposit_refund``); which one is
  read from the charge's payments, not trusted to the caller.
- **Customer balances never go below zero**: receivable (per charge and so in
  total), prepaid balance and deposit held. A payment larger than what is
  outstanding is refused: the caller books the excess as a prepayment.
- **Each rule is checked under row locks** on the customer's accounts (taken in
  id order, so postings cannot deadlock each other), so two concurrent
  postings cannot both spend the same balance. A re-post of an existing
  (kind, reference) skips the rules and returns the entry already there, when
  it is identical (see :func:`ledger.services.journal_post`).
- **A reversal is refused when it would break those rules**, e.g. reversing a
  charge already paid (refund first), or a prepayment already spent.
- A top-up that was never spent is returned by reversing its prepayment entry;
  the part of a charge paid from the prepaid balance goes back there by
  reversing the ``prepaid_applied`` entry.

Amounts are positive Money; the currency is the Money's, so an amount and its
currency cannot disagree. Only plain values come in (ids, references): the
ledger sits below billing and payments and imports neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.choices import SigningTreatment
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, quantize
from feemgmt.core.sql import insert_rows

from .choices import AccountPurpose, EntryKind, normal_sign
from .models import Account, JournalEntry, JournalLine
from .selectors import account_balance, subject_balance
from .services import account_for, accounts_lock, check_currency, journal_post, journal_reverse

__all__ = [
    "BilledCharge",
    "accounts_for_customers",
    "apply_prepaid",
    "charge_subject",
    "post_charge",
    "post_charge_cancellation",
    "post_charge_change",
    "post_charges",
    "post_payment",
    "post_prepayment",
    "post_refund",
    "post_reversal",
    "post_write_off",
]

R, P, D = AccountPurpose.RECEIVABLE, AccountPurpose.PREPAID, AccountPurpose.DEPOSIT_HELD
_TREATMENT_ACCOUNT = {
    SigningTreatment.FEE: R,
    SigningTreatment.PREPAYMENT: P,
    SigningTreatment.DEPOSIT: D,
}


def charge_subject(charge_id: int) -> str:
    return f"charge:{charge_id}"


def _customer(customer_id: int, currency: str, purpose: str) -> Account:
    return account_for(purpose=purpose, currency=currency, customer_id=customer_id)


def _clearing(method: str, currency: str) -> Account:
    return account_for(purpose=AccountPurpose.CLEARING, currency=currency, payment_method=method)


def _company(purpose: str, currency: str) -> Account:
    return account_for(purpose=purpose, currency=currency)


def _positive(amount: Money) -> None:
    if not isinstance(amount, Money) or amount.amount <= 0:
        raise BusinessError({"amount": [_("The amount must be a positive sum of money.")]})


def _treatment(treatment: str | None) -> str:
    treatment = treatment or SigningTreatment.FEE
    if treatment not in _TREATMENT_ACCOUNT:
        raise BusinessError(
            {"treatment": [_("Unknown treatment “%(value)s”.") % {"value": treatment}]}
        )
    return treatment


def _posted(kind: str, reference: str) -> bool:
    return JournalEntry.objects.filter(kind=kind, reference=reference).exists()


def _natural(account: Account) -> Money:
    """The balance on the account's normal side (what the customer owes or holds)."""
    return account_balance(account) * normal_sign(account.purpose)


def _not_above(amount: Money, limit: Money, message: str) -> None:
    if amount > limit:
        raise BusinessError(
            {"amount": [message % {"amount": amount.amount, "available": limit.amount}]},
            code="insufficient",
        )


def post_charge(
    *,
    customer_id: int,
    amount: Money,
    charge_id: int,
    on: dt.date,
    treatment: str | None = None,
) -> JournalEntry | None:
    """Book a billed charge as receivable and income; ``None`` for a signing
    charge treated as prepayment or deposit, or a zero charge (see the module)."""
    treatment = _treatment(treatment)
    if treatment != SigningTreatment.FEE or (isinstance(amount, Money) and amount.amount == 0):
        return None
    _positive(amount)
    currency = amount.currency.code
    receivable = _customer(customer_id, currency, R)
    income = _company(AccountPurpose.FEE_INCOME, currency)
    return journal_post(
        kind=EntryKind.CHARGE,
        reference=charge_subject(charge_id),
        subject=charge_subject(charge_id),
        currency=currency,
        on=on,
        lines=[(receivable, amount), (income, -amount)],
    )


@transaction.atomic
def post_payment(
    *,
    customer_id: int,
    amount: Money,
    method: str,
    reference: str,
    charge_id: int,
    on: dt.date,
    treatment: str | None = None,
) -> JournalEntry:
    """Money collected for a charge through a payment method."""
    treatment = _treatment(treatment)
    _positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    credited = _customer(customer_id, currency, _TREATMENT_ACCOUNT[treatment])
    clearing = _clearing(method, currency)
    accounts_lock([credited])
    if not _posted(EntryKind.PAYMENT, reference):
        if treatment == SigningTreatment.FEE:
            _not_above(
                amount,
                subject_balance(account=credited, subject=subject),
                _("%(amount)s is more than the %(available)s outstanding on this charge."),
            )
        elif JournalEntry.objects.filter(kind=EntryKind.CHARGE, subject=subject).exists():
            raise BusinessError(
                {"treatment": [_("This charge was billed as a fee; collect it as a fee.")]}
            )
    return journal_post(
        kind=EntryKind.PAYMENT,
        reference=reference,
        subject=subject,
        currency=currency,
        on=on,
        lines=[(clearing, amount), (credited, -amount)],
    )


def post_prepayment(
    *, customer_id: int, amount: Money, method: str, reference: str, on: dt.date
) -> JournalEntry:
    """Money received to top up the customer's prepaid balance."""
    _positive(amount)
    currency = amount.currency.code
    prepaid = _customer(customer_id, currency, P)
    clearing = _clearing(method, currency)
    return journal_post(
        kind=EntryKind.PREPAYMENT,
        reference=reference,
        currency=currency,
        on=on,
        lines=[(clearing, amount), (prepaid, -amount)],
    )


@transaction.atomic
def apply_prepaid(
    *,
    customer_id: int,
    amount: Money,
    charge_id: int,
    on: dt.date,
    reference: str | None = None,
) -> JournalEntry:
    """Settle (part of) a charge from the customer's prepaid balance.

    The prepaid and receivable rows are locked before their balances are read,
    so concurrent applications queue and none can overdraw the balance.
    """
    _positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    reference = reference or subject
    receivable = _customer(customer_id, currency, R)
    prepaid = _customer(customer_id, currency, P)
    accounts_lock([receivable, prepaid])
    if not _posted(EntryKind.PREPAID_APPLIED, reference):
        _not_above(
            amount,
            _natural(prepaid),
            _("%(amount)s is more than the prepaid balance of %(available)s."),
        )
        _not_above(
            amount,
            subject_balance(account=receivable, subject=subject),
            _("%(amount)s is more than the %(available)s outstanding on this charge."),
        )
    return journal_post(
        kind=EntryKind.PREPAID_APPLIED,
        reference=reference,
        subject=subject,
        currency=currency,
        on=on,
        lines=[(prepaid, amount), (receivable, -amount)],
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
    _positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    customer_accounts = [_customer(customer_id, currency, purpose) for purpose in (R, P, D)]
    clearing = _clearing(method, currency)
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
        R: _company(AccountPurpose.FEE_INCOME, currency),
        P: customer_accounts[1],
        D: customer_accounts[2],
    }[purpose]
    kind = EntryKind.DEPOSIT_REFUND if purpose == D else EntryKind.REFUND
    if not _posted(kind, reference):
        _not_above(
            amount,
            subject_balance(account=clearing, subject=subject),
            _("%(amount)s is more than the %(available)s collected and not yet refunded."),
        )
        if purpose in (P, D):
            _not_above(
                amount,
                _natural(debited),
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
def post_write_off(
    *,
    customer_id: int,
    amount: Money,
    charge_id: int,
    on: dt.date,
    reference: str | None = None,
) -> JournalEntry:
    """Give up on (part of) what a customer owes on a charge."""
    _positive(amount)
    currency = amount.currency.code
    subject = charge_subject(charge_id)
    reference = reference or subject
    receivable = _customer(customer_id, currency, R)
    expense = _company(AccountPurpose.WRITE_OFF, currency)
    accounts_lock([receivable])
    if not _posted(EntryKind.WRITE_OFF, reference):
        _not_above(
            amount,
            subject_balance(account=receivable, subject=subject),
            _("%(amount)s is more than the %(available)s outstanding on this charge."),
        )
    return journal_post(
        kind=EntryKind.WRITE_OFF,
        reference=reference,
        subject=subject,
        currency=currency,
        on=on,
        lines=[(expense, amount), (receivable, -amount)],
    )


@transaction.atomic
def post_reversal(*, entry: JournalEntry, on: dt.date, reference: str) -> JournalEntry:
    """Cancel a posting, unless undoing it would break the rules above (a customer
    balance, what is receivable on a charge, or its cash, going below zero)."""
    lines = list(entry.lines.select_related("account").order_by("id"))
    customer_accounts = [line.account for line in lines if line.account.customer_id]
    accounts_lock(customer_accounts)
    if not _posted(EntryKind.REVERSAL, reference):
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


@dataclass(frozen=True, slots=True)
class BilledCharge:
    """A charge the billing run has just created, as the ledger needs it."""

    charge_id: int
    customer_id: int
    amount: Money
    on: dt.date
    treatment: str = ""


def post_charges(charges: Sequence[BilledCharge]) -> int:
    """Book many newly created charges at once, as :func:`post_charge` books one.

    The billing run's path: a fixed number of queries whatever the count (accounts
    fetched or created in bulk, then entries and lines inserted in bulk). The
    charges are new, so none of them can have an entry yet; if one had, the unique
    (kind, reference) would roll the caller's transaction back rather than post
    twice. Like :func:`ledger.services.journal_post`, every entry it writes
    balances by construction (one debit, one equal credit). Returns the number of
    entries posted.
    """
    to_post = [
        c
        for c in charges
        if (c.treatment or SigningTreatment.FEE) == SigningTreatment.FEE and c.amount.amount > 0
    ]
    if not to_post:
        return 0
    currencies = sorted({c.amount.currency.code for c in to_post})
    income = {currency: _company(AccountPurpose.FEE_INCOME, currency) for currency in currencies}
    receivable = accounts_for_customers(
        R, {(c.customer_id, c.amount.currency.code) for c in to_post}
    )
    now = timezone.now()
    returned = insert_rows(
        JournalEntry,
        ("kind", "reference", "subject", "currency", "effective_on", "memo", "created_at"),
        (
            (
                EntryKind.CHARGE.value,
                charge_subject(c.charge_id),
                charge_subject(c.charge_id),
                c.amount.currency.code,
                c.on,
                "",
                now,
            )
            for c in to_post
        ),
        returning=("id", "reference"),
    )
    entry_ids = dict((reference, entry_id) for entry_id, reference in returned)
    lines = []
    for charge in to_post:
        entry_id = entry_ids[charge_subject(charge.charge_id)]
        currency = charge.amount.currency.code
        amount = quantize(charge.amount).amount
        lines.append((entry_id, receivable[charge.customer_id, currency].pk, amount))
        lines.append((entry_id, income[currency].pk, -amount))
    insert_rows(JournalLine, ("entry_id", "account_id", "amount"), lines)
    return len(returned)


def accounts_for_customers(
    purpose: str, keys: set[tuple[int, str]]
) -> dict[tuple[int, str], Account]:
    """Customer accounts for many (customer, currency) pairs, created where missing,
    in three queries (race-safe as :func:`ledger.services.account_for`)."""
    customer_ids = {customer_id for customer_id, _currency in keys}
    currencies = {currency for _customer_id, currency in keys}
    for currency in currencies:
        check_currency(currency)

    def fetch():
        rows = Account.objects.filter(
            purpose=purpose, customer_id__in=customer_ids, currency__in=currencies
        )
        return {(a.customer_id, a.currency): a for a in rows}

    found = fetch()
    missing = keys - found.keys()
    if missing:
        Account.objects.bulk_create(
            [Account(purpose=purpose, customer_id=c, currency=cur) for c, cur in sorted(missing)],
            ignore_conflicts=True,
        )
        found = fetch()
    return found


def _live_charge_entry(charge_id: int) -> JournalEntry | None:
    return (
        JournalEntry.objects.filter(kind=EntryKind.CHARGE, subject=charge_subject(charge_id))
        .filter(reversed_by__isnull=True)
        .order_by("-id")
        .first()
    )


@transaction.atomic
def post_charge_cancellation(*, charge_id: int, on: dt.date) -> JournalEntry | None:
    """Undo the booking of a charge cancelled before it was collected (``None``
    when the charge was never booked, e.g. a deposit)."""
    entry = _live_charge_entry(charge_id)
    if entry is None:
        return None
    return post_reversal(entry=entry, on=on, reference=f"{entry.reference}:cancel")


@transaction.atomic
def post_charge_change(
    *, customer_id: int, charge_id: int, amount: Money, on: dt.date, treatment: str = ""
) -> JournalEntry | None:
    """Re-price a charge not yet collected: its booking is reversed and the new
    amount booked under a new version of its reference, so the journal shows the
    original, its reversal and the re-billed amount."""
    post_charge_cancellation(charge_id=charge_id, on=on)
    if _treatment(treatment) != SigningTreatment.FEE or amount.amount == 0:
        return None
    versions = JournalEntry.objects.filter(
        kind=EntryKind.CHARGE, subject=charge_subject(charge_id)
    ).count()
    receivable = _customer(customer_id, amount.currency.code, R)
    income = _company(AccountPurpose.FEE_INCOME, amount.currency.code)
    return journal_post(
        kind=EntryKind.CHARGE,
        reference=f"{charge_subject(charge_id)}:v{versions + 1}",
        subject=charge_subject(charge_id),
        currency=amount.currency.code,
        on=on,
        lines=[(receivable, amount), (income, -amount)],
    )
