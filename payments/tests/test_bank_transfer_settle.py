"""Reconciliation's entry point for bank transfers: a statement line quoting a
payment notice's reference settles it, once, for exactly the amount asked."""

from __future__ import annotations

import pytest

from billing.choices import ChargeStatus
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from payments.choices import AttemptStatus
from payments.services.bank_transfer import bank_transfer_settle
from payments.services.collection import Outcome, charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from payments.tests.test_collection import balance
from tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice():
    charge = billed_charge("3000.00", method="bank_transfer")
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PENDING
    return charge, charge.attempts.get()


def settle(attempt, narrative=None, amount="3000.00"):
    with at(DAY):
        return bank_transfer_settle(
            narrative=narrative or f"支付管理费 {attempt.provider_reference} 谢谢",
            amount=money(amount, "CNY"),
            booked_on=DAY,
            line_reference="LINE-1",
        )


def test_a_matching_line_settles_the_notice_once(notice):
    charge, attempt = notice

    assert settle(attempt) == Outcome.PAID
    assert settle(attempt) == Outcome.PAID  # the line matched again

    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PAID and attempt.status == AttemptStatus.SUCCEEDED
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert balance(charge, AccountPurpose.CLEARING, "bank_transfer") == money("3000.00", "CNY")


@pytest.mark.parametrize(
    ("narrative", "amount", "field"),
    [
        ("支付管理费，没有附言", "3000.00", "narrative"),
        ("FM-AAAA-AAAA-AAAA-A", "3000.00", "narrative"),  # not a reference we issued
        (None, "2999.99", "amount"),
    ],
)
def test_a_line_that_does_not_match_is_refused_and_changes_nothing(
    notice, narrative, amount, field
):
    charge, attempt = notice
    with pytest.raises(BusinessError) as error:
        settle(attempt, narrative, amount)
    assert field in error.value.detail

    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING and attempt.status == AttemptStatus.PENDING
    assert not JournalEntry.objects.filter(kind=EntryKind.PAYMENT).exists()
