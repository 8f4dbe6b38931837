"""Concurrent postings on real PostgreSQL: row locks keep the prepaid balance from
being overdrawn, and the (kind, reference) unique index posts a retried entry once."""

import datetime as dt
import threading

import pytest
from django.db import connection

from contracts.tests.factories import CustomerFactory
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger import postings
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry, JournalLine
from ledger.selectors import balances_for_customer
from ledger.services import account_for, journal_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 3, 1)


def run_together(calls):
    """Each call in its own thread (own connection), released at once; returns
    (results, BusinessErrors); any other exception fails the test."""
    barrier = threading.Barrier(len(calls))
    results, refused, errors = [], [], []

    def worker(call):
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except BusinessError as exc:
            refused.append(exc)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results, refused


def test_concurrent_applications_never_overdraw_the_prepaid_balance():
    cid = CustomerFactory().pk
    amount = money("100.00", "CNY")
    for charge_id in range(1, 21):
        postings.post_charge(customer_id=cid, amount=amount, charge_id=charge_id, on=DAY)
    postings.post_prepayment(
        customer_id=cid, amount=amount * 10, method="bank_transfer", reference="top-up", on=DAY
    )

    def apply(charge_id):
        return lambda: postings.apply_prepaid(
            customer_id=cid, amount=amount, charge_id=charge_id, on=DAY
        )

    applied, refused = run_together([apply(charge_id) for charge_id in range(1, 21)])
    assert len(applied) == 10
    assert len(refused) == 10
    assert all(exc.code == "insufficient" for exc in refused)
    balances = balances_for_customer(customer_id=cid, currency="CNY")
    assert balances[AccountPurpose.PREPAID] == money(0, "CNY")
    assert balances[AccountPurpose.RECEIVABLE] == money("1000.00", "CNY")
    assert JournalEntry.objects.filter(kind=EntryKind.PREPAID_APPLIED).count() == 10


def test_concurrent_identical_posts_write_one_entry():
    cid = CustomerFactory().pk
    receivable = account_for(purpose=AccountPurpose.RECEIVABLE, currency="CNY", customer_id=cid)
    income = account_for(purpose=AccountPurpose.FEE_INCOME, currency="CNY")
    amount = money("250.00", "CNY")

    def post():
        return journal_post(
            kind=EntryKind.CHARGE,
            reference="charge:42",
            currency="CNY",
            on=DAY,
            lines=[(receivable, amount), (income, -amount)],
        )

    entries, refused = run_together([post] * 10)
    assert not refused
    assert len({entry.pk for entry in entries}) == 1
    assert JournalEntry.objects.count() == 1
    assert JournalLine.objects.count() == 2


def test_concurrent_first_use_of_an_account_creates_it_once():
    cid = CustomerFactory().pk

    def create():
        return account_for(purpose=AccountPurpose.PREPAID, currency="USD", customer_id=cid)

    accounts, refused = run_together([create] * 10)
    assert not refused
    assert len({account.pk for account in accounts}) == 1
