"""journal_post and journal_reverse: the rules every entry obeys, and what a
refused post leaves behind (nothing)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from contracts.tests.factories import CustomerFactory
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import Account, JournalEntry, JournalLine
from ledger.selectors import (
    account_balance,
    balances_for_customer,
    customer_subject_balance,
    unbalanced_entries,
)
from ledger.services import account_for, journal_post, journal_reverse

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 1)


@pytest.fixture
def customer():
    return CustomerFactory()


@pytest.fixture
def receivable(customer):
    return account_for(purpose=AccountPurpose.RECEIVABLE, currency="CNY", customer_id=customer.pk)


@pytest.fixture
def income():
    return account_for(purpose=AccountPurpose.FEE_INCOME, currency="CNY")


def post(lines, reference="charge:1", kind=EntryKind.CHARGE, currency="CNY"):
    return journal_post(kind=kind, reference=reference, currency=currency, on=DAY, lines=lines)


def counts():
    return JournalEntry.objects.count(), JournalLine.objects.count()


def test_a_balanced_entry_is_posted_and_balances_derive_from_its_lines(receivable, income):
    entry = post([(receivable, money("100.00", "CNY")), (income, money("-100.00", "CNY"))])
    assert entry.lines.count() == 2
    assert account_balance(receivable) == money("100.00", "CNY")
    assert account_balance(income) == money("-100.00", "CNY")
    balances = balances_for_customer(customer_id=receivable.customer_id, currency="CNY")
    assert balances == {
        AccountPurpose.RECEIVABLE: money("100.00", "CNY"),
        AccountPurpose.PREPAID: money(0, "CNY"),
        AccountPurpose.DEPOSIT_HELD: money(0, "CNY"),
    }
    assert unbalanced_entries() == []


def test_a_customers_subject_balance_is_read_without_creating_the_account(customer, income):
    def read(subject="charge:1"):
        return customer_subject_balance(
            customer_id=customer.pk,
            purpose=AccountPurpose.RECEIVABLE,
            currency="CNY",
            subject=subject,
        )

    assert read() == money(0, "CNY")
    assert not Account.objects.filter(customer=customer).exists()  # a read never writes

    receivable = account_for(
        purpose=AccountPurpose.RECEIVABLE, currency="CNY", customer_id=customer.pk
    )
    journal_post(
        kind=EntryKind.CHARGE,
        reference="charge:1",
        subject="charge:1",
        currency="CNY",
        on=DAY,
        lines=[(receivable, money("100.00", "CNY")), (income, money("-100.00", "CNY"))],
    )
    assert read() == money("100.00", "CNY")
    assert read("charge:2") == money(0, "CNY")


@pytest.mark.parametrize(
    "make_lines",
    [
        pytest.param(lambda r, i, u: [(r, money("1.00", "CNY"))], id="one line"),
        pytest.param(lambda r, i, u: [], id="no line"),
        pytest.param(
            lambda r, i, u: [
                (r, money("1.00", "CNY")),
                (i, money("-1.00", "CNY")),
                (i, money(0, "CNY")),
            ],
            id="zero line",
        ),
        pytest.param(
            lambda r, i, u: [(r, money("1.00", "CNY")), (i, money("-0.99", "CNY"))],
            id="does not sum to zero",
        ),
        pytest.param(
            lambda r, i, u: [(r, money("1.00", "CNY")), (i, money("-1.00", "USD"))],
            id="Money in another currency",
        ),
        pytest.param(
            lambda r, i, u: [(r, money("1.00", "CNY")), (u, money("-1.00", "CNY"))],
            id="account in another currency",
        ),
        pytest.param(
            lambda r, i, u: [
                (r, Money(Decimal("1.005"), "CNY")),
                (i, Money(Decimal("-1.005"), "CNY")),
            ],
            id="not quantized to fen",
        ),
        pytest.param(
            lambda r, i, u: [(r, Decimal("1.00")), (i, Decimal("-1.00"))],
            id="bare decimals",
        ),
        pytest.param(
            lambda r, i, u: [
                (r, money("1" + "0" * 14, "CNY")),
                (i, money("-1" + "0" * 14, "CNY")),
            ],
            id="too large",
        ),
    ],
)
def test_a_refused_entry_writes_nothing(receivable, income, make_lines):
    usd_income = account_for(purpose=AccountPurpose.FEE_INCOME, currency="USD")
    before = counts()
    with pytest.raises(BusinessError):
        post(make_lines(receivable, income, usd_income))
    assert counts() == before


def test_a_currency_with_three_minor_digits_is_refused(receivable, income, settings):
    settings.CURRENCIES = (*settings.CURRENCIES, "KWD")
    with pytest.raises(BusinessError, match="two decimal places"):
        account_for(purpose=AccountPurpose.FEE_INCOME, currency="KWD")


def test_reposting_the_same_kind_and_reference_returns_the_first_entry(receivable, income):
    lines = [(receivable, money("100.00", "CNY")), (income, money("-100.00", "CNY"))]
    first = post(lines)
    before = counts()
    again = post(list(reversed(lines)))  # same lines, other order
    assert again.pk == first.pk
    assert counts() == before
    assert account_balance(receivable) == money("100.00", "CNY")


def test_reusing_a_reference_for_different_lines_is_refused(receivable, income):
    post([(receivable, money("100.00", "CNY")), (income, money("-100.00", "CNY"))])
    before = counts()
    with pytest.raises(BusinessError, match="already posted with different lines"):
        post([(receivable, money("90.00", "CNY")), (income, money("-90.00", "CNY"))])
    assert counts() == before


def test_the_same_reference_under_another_kind_is_another_entry(receivable, income):
    lines = [(receivable, money("5.00", "CNY")), (income, money("-5.00", "CNY"))]
    post(lines, kind=EntryKind.CHARGE)
    post(lines, kind=EntryKind.WRITE_OFF)
    assert JournalEntry.objects.count() == 2


def test_an_entry_is_reversed_once(receivable, income):
    entry = post([(receivable, money("100.00", "CNY")), (income, money("-100.00", "CNY"))])
    reversal = journal_reverse(entry=entry, on=DAY, reference="cancel:1")
    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.reverses_id == entry.pk
    assert account_balance(receivable) == money(0, "CNY")
    assert account_balance(income) == money(0, "CNY")

    assert journal_reverse(entry=entry, on=DAY, reference="cancel:1").pk == reversal.pk
    before = counts()
    with pytest.raises(BusinessError, match="already been reversed"):
        journal_reverse(entry=entry, on=DAY, reference="cancel:2")
    with pytest.raises(BusinessError, match="cannot be reversed"):
        journal_reverse(entry=reversal, on=DAY, reference="cancel:3")
    assert counts() == before


def test_account_for_returns_one_account_per_owner_purpose_and_currency(customer):
    first = account_for(purpose=AccountPurpose.PREPAID, currency="CNY", customer_id=customer.pk)
    again = account_for(purpose=AccountPurpose.PREPAID, currency="CNY", customer_id=customer.pk)
    usd = account_for(purpose=AccountPurpose.PREPAID, currency="USD", customer_id=customer.pk)
    alipay = account_for(purpose=AccountPurpose.CLEARING, currency="CNY", payment_method="alipay")
    alipay_again = account_for(
        purpose=AccountPurpose.CLEARING, currency="CNY", payment_method="alipay"
    )
    wechat = account_for(
        purpose=AccountPurpose.CLEARING, currency="CNY", payment_method="wechat_pay"
    )
    assert first.pk == again.pk != usd.pk
    assert alipay.pk == alipay_again.pk != wechat.pk
    assert Account.objects.count() == 4


@pytest.mark.parametrize(
    "fields",
    [
        {"purpose": AccountPurpose.RECEIVABLE, "currency": "CNY", "with_customer": True},
        {"purpose": AccountPurpose.FEE_INCOME, "currency": "CNY", "with_customer": False},
        {
            "purpose": AccountPurpose.CLEARING,
            "currency": "CNY",
            "payment_method": "alipay",
            "with_customer": False,
        },
    ],
    ids=["customer account", "company account", "clearing account"],
)
def test_the_database_refuses_a_second_account_for_the_same_key(customer, fields):
    fields = dict(fields)
    if fields.pop("with_customer"):
        fields["customer"] = customer
    Account.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"purpose": AccountPurpose.RECEIVABLE, "currency": "CNY"},
        {"purpose": AccountPurpose.FEE_INCOME, "currency": "CNY", "customer": True},
        {"purpose": AccountPurpose.CLEARING, "currency": "CNY"},
        {"purpose": AccountPurpose.FEE_INCOME, "currency": "CNY", "payment_method": "alipay"},
    ],
    ids=[
        "customer account without customer",
        "company account with customer",
        "clearing without method",
        "method on a non-clearing account",
    ],
)
def test_account_ownership_rules_hold_in_the_database_and_the_service(customer, fields):
    fields = dict(fields)
    if fields.pop("customer", False):
        fields["customer"] = customer
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(**fields)
    service_fields = {k: v for k, v in fields.items() if k != "customer"}
    if "customer" in fields:
        service_fields["customer_id"] = customer.pk
    with pytest.raises(BusinessError):
        account_for(**service_fields)
