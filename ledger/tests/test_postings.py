"""The domain postings: which accounts each movement touches, and the caps a
finance team relies on (no overpayment, overdraft, over-refund or over-write-off)."""

import datetime as dt

import pytest

from contracts.tests.factories import CustomerFactory
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger import postings
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry, JournalLine
from ledger.selectors import account_balance, balances_for_customer
from ledger.services import account_for

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 1)
R, P, D = AccountPurpose.RECEIVABLE, AccountPurpose.PREPAID, AccountPurpose.DEPOSIT_HELD


def cny(amount):
    return money(amount, "CNY")


@pytest.fixture
def cid():
    return CustomerFactory().pk


def balances(cid):
    return balances_for_customer(customer_id=cid, currency="CNY")


def company(purpose, method=""):
    account = account_for(purpose=purpose, currency="CNY", payment_method=method)
    return account_balance(account)


def charge(cid, charge_id, amount="100.00", treatment=None):
    return postings.post_charge(
        customer_id=cid, amount=cny(amount), charge_id=charge_id, on=DAY, treatment=treatment
    )


def pay(cid, charge_id, amount, reference, treatment=None, method="alipay"):
    return postings.post_payment(
        customer_id=cid,
        amount=cny(amount),
        method=method,
        reference=reference,
        charge_id=charge_id,
        on=DAY,
        treatment=treatment,
    )


def test_a_fee_charge_is_receivable_and_income_then_paid_through_clearing(cid):
    entry = charge(cid, 1)
    assert entry.kind == EntryKind.CHARGE and entry.reference == "charge:1"
    assert balances(cid)[R] == cny("100.00")
    assert company(AccountPurpose.FEE_INCOME) == cny("-100.00")
    pay(cid, 1, "60.00", "attempt:a")
    assert balances(cid)[R] == cny("40.00")
    assert company(AccountPurpose.CLEARING, "alipay") == cny("60.00")


@pytest.mark.parametrize(("treatment", "purpose"), [("prepayment", P), ("deposit", D)])
def test_a_prepayment_or_deposit_signing_charge_is_booked_when_collected(cid, treatment, purpose):
    assert charge(cid, 1, treatment=treatment) is None
    assert JournalEntry.objects.count() == 0
    pay(cid, 1, "100.00", "attempt:a", treatment=treatment)
    assert balances(cid) == {R: cny(0), P: cny(0), D: cny(0), purpose: cny("100.00")}
    assert company(AccountPurpose.FEE_INCOME) == cny(0)


def test_a_zero_charge_posts_nothing(cid):
    assert charge(cid, 1, amount="0.00") is None
    assert JournalEntry.objects.count() == 0


def test_a_fee_charge_cannot_be_collected_as_a_prepayment(cid):
    charge(cid, 1)
    with pytest.raises(BusinessError, match="billed as a fee"):
        pay(cid, 1, "100.00", "attempt:a", treatment="prepayment")


def test_a_payment_above_what_is_outstanding_is_refused(cid):
    charge(cid, 1)
    pay(cid, 1, "70.00", "attempt:a")
    with pytest.raises(BusinessError, match="outstanding"):
        pay(cid, 1, "30.01", "attempt:b")
    # a retried delivery of the first payment is not a second payment
    assert pay(cid, 1, "70.00", "attempt:a").reference == "attempt:a"
    assert balances(cid)[R] == cny("30.00")


def test_prepaid_balance_is_applied_but_never_overdrawn(cid):
    charge(cid, 1, "80.00")
    charge(cid, 2, "80.00")
    postings.post_prepayment(
        customer_id=cid, amount=cny("100.00"), method="bank_transfer", reference="top-up", on=DAY
    )
    postings.apply_prepaid(customer_id=cid, amount=cny("80.00"), charge_id=1, on=DAY)
    with pytest.raises(BusinessError, match=r"prepaid balance of 20.00"):
        postings.apply_prepaid(customer_id=cid, amount=cny("20.01"), charge_id=2, on=DAY)
    with pytest.raises(BusinessError, match="outstanding"):
        postings.apply_prepaid(
            customer_id=cid, amount=cny("0.01"), charge_id=1, on=DAY, reference="again"
        )
    postings.apply_prepaid(customer_id=cid, amount=cny("20.00"), charge_id=2, on=DAY)
    assert balances(cid) == {R: cny("60.00"), P: cny(0), D: cny(0)}


def test_refunds_never_exceed_what_was_collected_through_that_method(cid):
    charge(cid, 1)
    pay(cid, 1, "60.00", "attempt:a", method="alipay")
    pay(cid, 1, "40.00", "attempt:b", method="wechat_pay")

    def refund(amount, reference, method="alipay"):
        return postings.post_refund(
            customer_id=cid,
            amount=cny(amount),
            method=method,
            reference=reference,
            charge_id=1,
            on=DAY,
        )

    refund("50.00", "refund:1")
    with pytest.raises(BusinessError, match=r"10.00 collected and not yet refunded"):
        refund("10.01", "refund:2")
    refund("10.00", "refund:2")
    refund("10.00", "refund:2")  # replayed, not refunded twice
    refund("40.00", "refund:3", method="wechat_pay")
    assert company(AccountPurpose.FEE_INCOME) == cny("0.00")
    assert company(AccountPurpose.CLEARING, "alipay") == cny(0)
    assert balances(cid)[R] == cny(0)
    with pytest.raises(BusinessError, match="Nothing was collected"):
        postings.post_refund(
            customer_id=CustomerFactory().pk,
            amount=cny("1.00"),
            method="alipay",
            reference="refund:x",
            charge_id=1,
            on=DAY,
        )


def test_a_deposit_is_refunded_as_a_deposit_refund(cid):
    pay(cid, 1, "500.00", "attempt:a", treatment="deposit", method="bank_transfer")
    entry = postings.post_refund(
        customer_id=cid,
        amount=cny("500.00"),
        method="bank_transfer",
        reference="termination:1",
        charge_id=1,
        on=DAY,
    )
    assert entry.kind == EntryKind.DEPOSIT_REFUND
    assert balances(cid)[D] == cny(0)


def test_a_prepayment_refund_cannot_take_back_balance_already_spent(cid):
    pay(cid, 1, "100.00", "attempt:a", treatment="prepayment")
    charge(cid, 2, "70.00")
    postings.apply_prepaid(customer_id=cid, amount=cny("70.00"), charge_id=2, on=DAY)
    with pytest.raises(BusinessError, match=r"30.00 the customer still holds"):
        postings.post_refund(
            customer_id=cid,
            amount=cny("30.01"),
            method="alipay",
            reference="refund:1",
            charge_id=1,
            on=DAY,
        )


def test_a_write_off_never_exceeds_what_is_outstanding(cid):
    charge(cid, 1)
    pay(cid, 1, "30.00", "attempt:a")
    with pytest.raises(BusinessError, match=r"70.00 outstanding"):
        postings.post_write_off(customer_id=cid, amount=cny("70.01"), charge_id=1, on=DAY)
    entry = postings.post_write_off(customer_id=cid, amount=cny("70.00"), charge_id=1, on=DAY)
    assert entry.reference == "charge:1"
    assert balances(cid)[R] == cny(0)
    assert company(AccountPurpose.WRITE_OFF) == cny("70.00")


def test_a_reversal_that_would_break_a_rule_is_refused(cid):
    billed = charge(cid, 1)
    payment = pay(cid, 1, "100.00", "attempt:a")
    before = JournalLine.objects.count()
    with pytest.raises(BusinessError, match="overdraw Receivable"):
        postings.post_reversal(entry=billed, on=DAY, reference="cancel:charge:1")
    assert JournalLine.objects.count() == before
    postings.post_reversal(entry=payment, on=DAY, reference="return:attempt:a")  # bank return
    postings.post_reversal(entry=billed, on=DAY, reference="cancel:charge:1")
    assert balances(cid)[R] == cny(0)
    assert company(AccountPurpose.CLEARING, "alipay") == cny(0)

    top_up = postings.post_prepayment(
        customer_id=cid, amount=cny("50.00"), method="alipay", reference="top-up", on=DAY
    )
    charge(cid, 2, "50.00")
    postings.apply_prepaid(customer_id=cid, amount=cny("50.00"), charge_id=2, on=DAY)
    with pytest.raises(BusinessError, match="overdraw Prepaid balance"):
        postings.post_reversal(entry=top_up, on=DAY, reference="cancel:top-up")


def test_receivable_by_customer_per_currency_leaves_out_settled_customers():
    from ledger.selectors import receivable_by_customer

    owing, settled, untouched = CustomerFactory(), CustomerFactory(), CustomerFactory()
    postings.post_charge(customer_id=owing.pk, amount=money("100.00", "CNY"), charge_id=1, on=DAY)
    postings.post_charge(customer_id=owing.pk, amount=money("20.50", "USD"), charge_id=2, on=DAY)
    postings.post_charge(customer_id=settled.pk, amount=money("80.00", "CNY"), charge_id=3, on=DAY)
    postings.post_write_off(
        customer_id=settled.pk, amount=money("80.00", "CNY"), charge_id=3, on=DAY
    )

    due = receivable_by_customer([owing.pk, settled.pk, untouched.pk])

    assert due == {owing.pk: [money("100.00", "CNY"), money("20.50", "USD")]}
