"""Reconciliation's entry point for bank transfers: money a statement line says the
customer sent for a payment notice is booked once, whatever the amount — settling,
paying part, settling with the excess to the prepaid balance, or paying again."""

from __future__ import annotations

import pytest

from billing.choices import ChargeStatus
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from payments.choices import AttemptStatus
from payments.services.bank_transfer import Receipt, bank_transfer_receive, bank_transfer_settle
from payments.services.collection import Outcome, charge_collect, outstanding
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


def receive(attempt, amount="3000.00", line="statement-line:1", currency="CNY"):
    with at(DAY):
        return bank_transfer_receive(
            reference=attempt.provider_reference,
            amount=money(amount, currency),
            booked_on=DAY,
            line_reference=line,
        )


def prepaid(charge):
    """The customer's prepaid balance (a liability: its lines are credits)."""
    return -balance(charge, AccountPurpose.PREPAID)


def test_the_amount_owed_settles_the_notice_once(notice):
    charge, attempt = notice

    first = receive(attempt)
    again = receive(attempt)  # the same line matched again

    assert first.effect == Receipt.SETTLED and not first.already_booked
    assert again.already_booked
    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PAID and attempt.status == AttemptStatus.SUCCEEDED
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert balance(charge, AccountPurpose.CLEARING, "bank_transfer") == money("3000.00", "CNY")


def test_less_pays_part_and_a_second_transfer_pays_the_rest(notice):
    charge, attempt = notice

    part = receive(attempt, "1000.00", line="statement-line:1")

    assert part.effect == Receipt.PARTIAL
    assert part.still_owed == money("2000.00", "CNY")
    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING and attempt.status == AttemptStatus.PENDING
    assert outstanding(charge) == money("2000.00", "CNY")

    rest = receive(attempt, "2000.00", line="statement-line:2")

    assert rest.effect == Receipt.SETTLED
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert balance(charge, AccountPurpose.CLEARING, "bank_transfer") == money("3000.00", "CNY")


def test_more_settles_and_the_excess_goes_to_the_prepaid_balance(notice):
    charge, attempt = notice

    result = receive(attempt, "3500.00")

    assert result.effect == Receipt.OVERPAID
    assert (result.applied, result.excess) == (money("3000.00", "CNY"), money("500.00", "CNY"))
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert prepaid(charge) == money("500.00", "CNY")


def test_paying_a_settled_charge_again_credits_the_prepaid_balance(notice):
    charge, attempt = notice
    receive(attempt, line="statement-line:1")

    second = receive(attempt, line="statement-line:2")

    assert second.effect == Receipt.DUPLICATE
    assert prepaid(charge) == money("3000.00", "CNY")
    assert balance(charge, AccountPurpose.CLEARING, "bank_transfer") == money("6000.00", "CNY")


@pytest.mark.parametrize(
    ("reference", "amount", "currency", "field"),
    [
        ("FM-AAAA-AAAA-AAAA-A", "3000.00", "CNY", "reference"),  # not one we issued
        (None, "3000.00", "USD", "amount"),
        (None, "-3000.00", "CNY", "amount"),
    ],
)
def test_a_line_that_cannot_pay_the_notice_is_refused_and_changes_nothing(
    notice, reference, amount, currency, field
):
    charge, attempt = notice
    with pytest.raises(BusinessError) as error, at(DAY):
        bank_transfer_receive(
            reference=reference or attempt.provider_reference,
            amount=money(amount, currency),
            booked_on=DAY,
            line_reference="statement-line:1",
        )
    assert field in error.value.detail

    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING and attempt.status == AttemptStatus.PENDING
    assert not JournalEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


def test_the_narrative_entry_point_finds_the_reference_in_free_text(notice):
    _charge, attempt = notice
    with at(DAY):
        result = bank_transfer_settle(
            narrative=f"支付管理费 {attempt.provider_reference} 谢谢",
            amount=money("3000.00", "CNY"),
            booked_on=DAY,
        )
    assert result.effect == Receipt.SETTLED
    with pytest.raises(BusinessError) as error:
        bank_transfer_settle(
            narrative="支付管理费，没有附言", amount=money("1.00", "CNY"), booked_on=DAY
        )
    assert "narrative" in error.value.detail


def test_a_deposit_is_booked_only_when_paid_whole_and_a_second_payment_is_a_duplicate():
    from billing.models import Charge
    from contracts.services import FeeInput
    from contracts.tests.factories import make_contract

    with at(DAY):
        contract = make_contract(
            service_start=DAY,
            signed_on=DAY,
            payment_method="bank_transfer",
            fees=[FeeInput(kind="signing", amount="5000.00", treatment="deposit")],
        )
    deposit = Charge.objects.get(contract=contract)
    with at(DAY):
        charge_collect(deposit.pk, on=DAY)
    attempt = deposit.attempts.get()

    with pytest.raises(BusinessError) as error:
        receive(attempt, "4000.00", line="statement-line:1")
    assert error.value.code == "amount_mismatch"

    assert receive(attempt, "5000.00", line="statement-line:2").effect == Receipt.SETTLED
    deposit.refresh_from_db()
    attempt.refresh_from_db()
    assert deposit.status == ChargeStatus.PAID and attempt.status == AttemptStatus.SUCCEEDED
    assert -balance(deposit, AccountPurpose.DEPOSIT_HELD) == money("5000.00", "CNY")

    again = receive(attempt, "5000.00", line="statement-line:3")
    assert again.effect == Receipt.DUPLICATE
    assert prepaid(deposit) == money("5000.00", "CNY")
