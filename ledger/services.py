"""Writing to the ledger: accounts and journal entries.

:func:`journal_post` is the only writer of entries and lines. It checks every
rule before writing (two lines at least, no zero line, one currency, amounts
already at the currency's minor unit, lines summing to exactly zero) and writes
the entry and its lines in one transaction, or nothing.

Idempotency is the database's: (kind, reference) is unique. Posting the same
(kind, reference) again returns the entry already there when it says the same
thing (same currency, subject, reversed entry and lines), and refuses when it
does not: a reference reused for a different movement is a bug upstream, not a
retry. Two concurrent posts of the same key race on the unique index; the loser
reads the winner's entry.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, minor_digits, minor_unit

from .choices import COMPANY_PURPOSES, CUSTOMER_PURPOSES, AccountPurpose, EntryKind
from .models import LINE_DIGITS, Account, JournalEntry, JournalLine

__all__ = ["account_for", "accounts_lock", "check_currency", "journal_post", "journal_reverse"]

_LINE_LIMIT = Decimal(10) ** (LINE_DIGITS["max_digits"] - LINE_DIGITS["decimal_places"])


def check_currency(currency: str) -> None:
    if currency not in settings.CURRENCIES:
        raise BusinessError(
            {"currency": [_("Unknown or unsupported currency “%(value)s”.") % {"value": currency}]}
        )
    if minor_digits(currency) > LINE_DIGITS["decimal_places"]:
        raise BusinessError(
            {
                "currency": [
                    _("The ledger keeps two decimal places; %(currency)s needs more.")
                    % {"currency": currency}
                ]
            }
        )


def account_for(
    *,
    purpose: str,
    currency: str,
    customer_id: int | None = None,
    payment_method: str = "",
    bank_account: str = "",
) -> Account:
    """The account for a purpose, owner and currency, created on first use.

    Race-safe without a lock: a missing account is inserted with ON CONFLICT DO
    NOTHING (INSERT OR IGNORE on SQLite) and then read, so two transactions
    creating it at once both get the one row.
    """
    check_currency(currency)
    if purpose in CUSTOMER_PURPOSES:
        if customer_id is None or payment_method or bank_account:
            raise BusinessError(
                {"customer": [_("A customer account needs a customer and no payment method.")]}
            )
    elif purpose in COMPANY_PURPOSES:
        if customer_id is not None:
            raise BusinessError({"customer": [_("A company account has no customer.")]})
        if (purpose == AccountPurpose.CLEARING) != bool(payment_method):
            raise BusinessError(
                {"payment_method": [_("Only a clearing account names a payment method.")]}
            )
        if (purpose == AccountPurpose.CASH) != bool(bank_account):
            raise BusinessError(
                {"bank_account": [_("Only a cash account names a receiving account.")]}
            )
        if payment_method and payment_method not in settings.PAYMENT_METHODS:
            raise BusinessError(
                {
                    "payment_method": [
                        _("Unknown payment method “%(value)s”.") % {"value": payment_method}
                    ]
                }
            )
    else:
        raise BusinessError(
            {"purpose": [_("Unknown account purpose “%(value)s”.") % {"value": purpose}]}
        )
    key = {
        "purpose": purpose,
        "currency": currency,
        "customer_id": customer_id,
        "payment_method": payment_method,
        "bank_account": bank_account,
    }
    account = Account.objects.filter(**key).first()
    if account is None:
        Account.objects.bulk_create([Account(**key)], ignore_conflicts=True)
        account = Account.objects.get(**key)
    return account


def accounts_lock(accounts: Iterable[Account]) -> None:
    """Lock account rows (in id order, so two lockers cannot deadlock) until the
    transaction ends: the way to read a balance and post against it safely."""
    ids = sorted({account.pk for account in accounts})
    list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def _refuse(message: str) -> BusinessError:
    return BusinessError({"lines": [message]}, code="unbalanced")


def checked_lines(
    currency: str, lines: Sequence[tuple[Account, Money]]
) -> list[tuple[Account, Decimal]]:
    """The checks every entry's lines pass, one entry (journal_post) or many
    (ledger.bulk): what makes an entry balanced and well formed."""
    check_currency(currency)
    amounts = []
    for account, amount in lines:
        if not isinstance(amount, Money):
            raise _refuse(_("Every line amount must be Money with a currency."))
        if amount.currency.code != currency:
            raise _refuse(
                _("Every line must be in the entry's currency %(currency)s.")
                % {"currency": currency}
            )
        amounts.append((account, amount.amount))
    return checked_amounts(currency, amounts)


def checked_amounts(
    currency: str, lines: Sequence[tuple[Account, Decimal]]
) -> list[tuple[Account, Decimal]]:
    """:func:`checked_lines` on amounts already known to be in ``currency`` (a
    checked one): the bulk path checks a hundred thousand entries this way, without
    building a Money per line."""
    if len(lines) < 2:
        raise _refuse(_("A journal entry needs at least two lines."))
    exponent = minor_unit(currency)
    total = Decimal(0)
    for account, value in lines:
        if account.pk is None:
            raise _refuse(_("Every line must post to a saved account."))
        if account.currency != currency:
            raise _refuse(
                _("Every line must be in the entry's currency %(currency)s.")
                % {"currency": currency}
            )
        if not value.is_finite() or value.quantize(exponent, rounding=ROUND_HALF_UP) != value:
            raise _refuse(
                _("%(amount)s is not rounded to the minor unit of %(currency)s.")
                % {"amount": value, "currency": currency}
            )
        if value == 0:
            raise _refuse(_("A journal line cannot be zero."))
        if abs(value) >= _LINE_LIMIT:
            raise _refuse(_("%(amount)s is too large for the ledger.") % {"amount": value})
        total += value
    if total != 0:
        raise _refuse(_("The lines of a journal entry must sum to zero."))
    return list(lines)


def _same_entry(
    entry: JournalEntry,
    *,
    currency: str,
    subject: str,
    reverses: JournalEntry | None,
    lines: list[tuple[Account, Decimal]],
) -> JournalEntry:
    """The entry already posted under this (kind, reference), if it says the same."""
    posted = Counter(entry.lines.values_list("account_id", "amount"))
    wanted = Counter((account.pk, amount) for account, amount in lines)
    same = (
        entry.currency == currency
        and entry.subject == subject
        and entry.reverses_id == (reverses.pk if reverses else None)
        and posted == wanted
    )
    if not same:
        raise BusinessError(
            {
                "reference": [
                    _(
                        "%(kind)s %(reference)s was already posted with different lines; "
                        "a reference cannot be reused for another movement."
                    )
                    % {"kind": entry.get_kind_display(), "reference": entry.reference}
                ]
            },
            code="reference_reused",
        )
    return entry


@transaction.atomic
def journal_post(
    *,
    kind: str,
    reference: str,
    currency: str,
    on: dt.date,
    lines: Sequence[tuple[Account, Money]],
    memo: str = "",
    subject: str = "",
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry, or return the identical one posted before.

    ``lines`` are (account, signed Money): debit positive, credit negative.
    """
    if kind not in EntryKind.values:
        raise BusinessError({"kind": [_("Unknown entry kind “%(value)s”.") % {"value": kind}]})
    if not reference:
        raise BusinessError({"reference": [_("A journal entry needs a reference.")]})
    checked = checked_lines(currency, list(lines))
    replay = {"currency": currency, "subject": subject, "reverses": reverses, "lines": checked}

    existing = JournalEntry.objects.filter(kind=kind, reference=reference).first()
    if existing is not None:
        return _same_entry(existing, **replay)
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                kind=kind,
                reference=reference,
                subject=subject,
                currency=currency,
                effective_on=on,
                memo=memo,
                reverses=reverses,
            )
    except IntegrityError:
        existing = JournalEntry.objects.filter(kind=kind, reference=reference).first()
        if existing is not None:
            return _same_entry(existing, **replay)
        if reverses is not None and JournalEntry.objects.filter(reverses=reverses).exists():
            raise BusinessError(
                {"entry": [_("This journal entry has already been reversed.")]},
                code="already_reversed",
            ) from None
        raise
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, account=account, amount=amount) for account, amount in checked
    )
    return entry


@transaction.atomic
def journal_reverse(
    *, entry: JournalEntry, on: dt.date, reference: str, memo: str = ""
) -> JournalEntry:
    """Cancel an entry by posting its lines negated; the original stays as it was.

    An entry is reversed at most once (the database holds that), and a reversal is
    not itself reversed: post the movement again under a new reference instead.
    """
    if entry.kind == EntryKind.REVERSAL:
        raise BusinessError(
            {"entry": [_("A reversal cannot be reversed; post the movement again instead.")]}
        )
    lines = [
        (line.account, Money(-line.amount, entry.currency))
        for line in entry.lines.select_related("account").order_by("id")
    ]
    return journal_post(
        kind=EntryKind.REVERSAL,
        reference=reference,
        currency=entry.currency,
        on=on,
        lines=lines,
        memo=memo,
        subject=entry.subject,
        reverses=entry,
    )
