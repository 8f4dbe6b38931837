"""Terminating a contract whose charges collection is working on: every charge still
collectable (pending, failed, overdue) is cut as the staff cancel would cut it, so
no attempt is left asking the customer for a period that no longer exists, and no
money that was applied or paid is lost."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.choices import AlertKind
from alerts.models import Alert
from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import billing_run
from contracts.services import contract_terminate
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger.choices import AccountPurpose
from ledger.postings import post_prepayment
from ledger.selectors import unbalanced_entries
from payments.adapters import CollectionResult
from payments.choices import AttemptStatus
from payments.models import Mandate, PaymentAttempt, attempt_key
from payments.services.collection import Outcome, charge_collect, record_result
from payments.services.direct_debit import direct_debit_batches_create
from payments.tests.fakes.auto_debit import DEBTOR_IBAN
from payments.tests.test_collection import balance, receivable_left
from tests.clock import at

pytestmark = pytest.mark.django_db

APRIL, MAY = dt.date(2026, 4, 1), dt.date(2026, 5, 1)
TERMINATED_ON = dt.date(2026, 5, 5)


def april_and_may(amount: str, *, method: str = "sandbox", currency: str = "CNY"):
    """A monthly contract from April 1, billed for April and May."""
    customer = CustomerFactory(currency=currency)
    with at(APRIL):
        contract = make_contract(
            customer=customer,
            service_start=APRIL,
            signed_on=APRIL,
            payment_method=method,
            fees=[monthly(amount)],
        )
    with at(MAY):
        billing_run(on=MAY)
    april, may = Charge.objects.filter(contract=contract).order_by("period_start")
    return contract, april, may


def collect(charge, day=MAY):
    with at(day):
        return charge_collect(charge.pk, on=day)


def terminate(contract, end_date):
    with at(TERMINATED_ON):
        return contract_terminate(contract=contract, end_date=end_date)


def top_up(customer_id, amount: str, reference="TOPUP"):
    post_prepayment(
        customer_id=customer_id,
        amount=money(amount, "CNY"),
        method="bank_transfer",
        reference=reference,
        on=MAY,
    )


@pytest.mark.parametrize("which", ["cut", "cancelled"])
def test_termination_is_refused_while_an_attempt_outcome_is_unknown(which):
    contract, april, may = april_and_may("3000.61")  # the gateway times out
    charge = april if which == "cut" else may
    assert collect(charge, charge.due_date) == Outcome.UNKNOWN

    with pytest.raises(BusinessError) as err:
        terminate(contract, dt.date(2026, 4, 10))

    assert f"#{charge.pk}" in str(err.value)
    assert "unknown outcome" in str(err.value)
    contract.refresh_from_db()
    assert contract.status == "active" and contract.service_end is None
    for unchanged in (april, may):
        unchanged.refresh_from_db()
        assert unchanged.status == ChargeStatus.PENDING
        assert unchanged.amount == money("3000.61", "CNY")
    assert charge.attempts.get().status == AttemptStatus.UNKNOWN


def test_termination_is_refused_for_a_charge_with_money_collected():
    contract, _april, may = april_and_may("3000.00")
    PaymentAttempt.objects.create(
        charge=may,
        number=1,
        idempotency_key=attempt_key(may.pk, 1),
        method="sandbox",
        amount=money("1000.00", "CNY"),
        status=AttemptStatus.SUCCEEDED,
    )

    with pytest.raises(BusinessError, match="refund") as err:
        terminate(contract, dt.date(2026, 4, 10))

    assert f"#{may.pk}" in str(err.value)
    may.refresh_from_db()
    assert may.status == ChargeStatus.PENDING


def test_an_open_qr_code_is_withdrawn_and_a_late_payment_goes_to_the_prepaid_balance():
    contract, april, may = april_and_may("3000.91")  # the gateway waits for a scan
    assert collect(april, APRIL) == Outcome.PENDING
    assert collect(may) == Outcome.PENDING

    terminate(contract, dt.date(2026, 4, 15))

    april.refresh_from_db()
    may.refresh_from_db()
    assert may.status == ChargeStatus.CANCELLED and may.next_attempt_on is None
    # 3000.91 × 15/30 = 1500.455, rounded half-up
    assert april.amount == money("1500.46", "CNY") and april.status == ChargeStatus.PENDING
    assert april.next_attempt_on == TERMINATED_ON  # asked again at the new amount
    assert april.attempts.get().status == AttemptStatus.CANCELLED
    (may_attempt,) = may.attempts.all()
    assert may_attempt.status == AttemptStatus.CANCELLED

    # The customer scans May's code anyway: the money is kept, as prepaid balance.
    with at(TERMINATED_ON):
        outcome = record_result(
            may_attempt.pk,
            CollectionResult(status="succeeded", amount=may_attempt.amount),
            on=TERMINATED_ON,
        )
    assert outcome == Outcome.PAID
    assert -balance(may, AccountPurpose.PREPAID) == money("3000.91", "CNY")
    assert Alert.objects.filter(kind=AlertKind.UNEXPECTED_PAYMENT).exists()
    # ... and pays the cut April charge from it at the next collection.
    assert collect(april, TERMINATED_ON) == Outcome.PAID
    assert -balance(may, AccountPurpose.PREPAID) == money("1500.45", "CNY")
    assert receivable_left(april) == money("0.00", "CNY")
    assert unbalanced_entries() == []


def test_the_prepaid_part_of_cut_and_cancelled_charges_goes_back_to_the_balance():
    contract, april, may = april_and_may("3000.91")
    assert collect(april, APRIL) == Outcome.PENDING  # 3000.91 asked at the gateway
    top_up(contract.customer_id, "1000.00")
    assert collect(may) == Outcome.PENDING  # 1000.00 from the balance, 2000.91 asked
    assert -balance(may, AccountPurpose.PREPAID) == money("0.00", "CNY")

    terminate(contract, dt.date(2026, 4, 15))

    contract.refresh_from_db()
    assert contract.status == "terminated"
    april.refresh_from_db()
    may.refresh_from_db()
    assert may.status == ChargeStatus.CANCELLED
    assert receivable_left(may) == money("0.00", "CNY")
    assert -balance(may, AccountPurpose.PREPAID) == money("1000.00", "CNY")
    assert receivable_left(april) == money("1500.46", "CNY")
    assert unbalanced_entries() == []

    # The next collection spends the balance on the cut charge and asks for the rest.
    assert collect(april, TERMINATED_ON) == Outcome.PAID
    assert april.attempts.get(status=AttemptStatus.SUCCEEDED).amount == money("500.46", "CNY")
    assert -balance(may, AccountPurpose.PREPAID) == money("0.00", "CNY")
    assert receivable_left(april) == money("0.00", "CNY")
    assert unbalanced_entries() == []


def test_a_charge_cut_after_a_partial_prepaid_payment_keeps_the_ledger_balanced():
    contract, april, _may = april_and_may("3000.91")
    top_up(contract.customer_id, "1000.00")
    assert collect(april, APRIL) == Outcome.PENDING  # 1000.00 from the balance, 2000.91 asked

    terminate(contract, dt.date(2026, 4, 15))

    april.refresh_from_db()
    assert april.amount == money("1500.46", "CNY")
    assert receivable_left(april) == money("1500.46", "CNY")
    assert -balance(april, AccountPurpose.PREPAID) == money("1000.00", "CNY")
    assert unbalanced_entries() == []


def test_a_queued_direct_debit_of_a_cancelled_charge_never_goes_to_the_bank(settings):
    contract, _april, may = april_and_may("1200.00", method="auto_debit", currency="EUR")
    Mandate.objects.create(
        customer=contract.customer,
        reference=f"MNDT-{contract.customer.code}",
        signed_on=dt.date(2026, 3, 15),
        debtor_name="Li Si",
        debtor_iban=DEBTOR_IBAN,
    )
    assert collect(may) == Outcome.PENDING  # queued for the next pain.008

    terminate(contract, dt.date(2026, 4, 30))

    may.refresh_from_db()
    assert may.status == ChargeStatus.CANCELLED
    assert may.attempts.get().status == AttemptStatus.CANCELLED
    with at(TERMINATED_ON):
        assert direct_debit_batches_create(on=TERMINATED_ON) == []
