"""The ledger's check in ``manage.py audit_verify``: a journal entry whose lines were
changed around journal_post (raw SQL) so they no longer sum to zero is named."""

import datetime as dt

import pytest

from audit.tests.support import raw, run_verify
from audit.verification import _checks
from contracts.tests.factories import CustomerFactory
from feemgmt.core.money import money
from ledger.audit_checks import CHECK_NAME, journal_entries_balance
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalLine
from ledger.services import account_for, journal_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    customer = CustomerFactory()
    receivable = account_for(
        purpose=AccountPurpose.RECEIVABLE, currency="CNY", customer_id=customer.pk
    )
    income = account_for(purpose=AccountPurpose.FEE_INCOME, currency="CNY")
    return journal_post(
        kind=EntryKind.CHARGE,
        reference="charge:77",
        currency="CNY",
        on=dt.date(2026, 3, 1),
        lines=[(receivable, money("100.00", "CNY")), (income, money("-100.00", "CNY"))],
    )


def test_the_check_is_registered_when_the_app_loads():
    assert _checks[CHECK_NAME] is journal_entries_balance


def test_a_balanced_ledger_passes(entry):
    status, out, err = run_verify()
    assert status == 0, err
    assert "audit chain intact" in out


def test_an_entry_altered_with_raw_sql_is_named(entry):
    line = entry.lines.order_by("pk").first()
    raw(f"UPDATE {JournalLine._meta.db_table} SET amount = %s WHERE id = %s", ["90.00", line.pk])
    status, _out, err = run_verify()
    assert status == 1
    assert f"check {CHECK_NAME}: entry {entry.pk} (charge charge:77) does not balance" in err, err
