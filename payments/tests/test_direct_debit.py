"""Direct debits end to end: mandate checks, a pain.008 batch, the bank's pain.002
and camt.054 read back, returns reversing the payment."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from alerts.choices import AlertKind
from alerts.models import Alert
from billing.choices import ChargeStatus
from feemgmt.core.money import money
from ledger.choices import AccountPurpose
from ledger.selectors import unbalanced_entries
from payments.adapters.auto_debit import Iso20022Error
from payments.choices import AttemptStatus, MandateStatus
from payments.models import DirectDebitBatch, Mandate
from payments.services.collection import Outcome, charge_collect
from payments.services.direct_debit import (
    direct_debit_batches_create,
    direct_debit_report_import,
)
from payments.tests.collection_helpers import DAY
from payments.tests.fakes.auto_debit import DEBTOR_IBAN, camt054_for, pain002_for
from payments.tests.test_collection import balance, receivable_left
from tests.clock import at

pytestmark = pytest.mark.django_db


def debit_charge(
    amount="1200.00", *, limit=None, mandate=True, limit_currency="EUR", customer=None
):
    """A euro charge to debit; a new customer gets a mandate (unless ``mandate`` is
    false), a ``customer`` given keeps the mandate it has."""
    from billing.models import Charge
    from contracts.tests.factories import CustomerFactory, make_contract, monthly

    if customer is None:
        customer = CustomerFactory(currency="EUR")
    else:
        mandate = False
    if mandate:
        Mandate.objects.create(
            customer=customer,
            reference=f"MNDT-{customer.code}",
            signed_on=dt.date(2026, 1, 15),
            debtor_name="Li Si",
            debtor_iban=DEBTOR_IBAN,
            limit=money(limit, limit_currency) if limit else None,
        )
    with at(DAY):
        contract = make_contract(
            customer=customer,
            currency="EUR",
            service_start=DAY,
            signed_on=DAY,
            alignment="anniversary",
            payment_method="auto_debit",
            fees=[monthly(amount)],
        )
    return Charge.objects.get(contract=contract)


def collect(charge, day=DAY):
    with at(day):
        return charge_collect(charge.pk, on=day)


def test_debits_are_batched_into_one_pain008_and_settled_by_the_camt054():
    charges = [debit_charge("1200.00"), debit_charge("80.50")]
    assert [collect(c) for c in charges] == [Outcome.PENDING, Outcome.PENDING]

    with at(DAY):
        (batch,) = direct_debit_batches_create(on=DAY)
        assert direct_debit_batches_create(on=DAY) == []  # each debit goes in one file

    assert batch.transactions == 2 and batch.control_sum == money("1280.50", "EUR").amount
    assert batch.collection_date == DAY + dt.timedelta(days=2)
    tree = etree.fromstring(batch.document.encode())
    e2e = [el.text for el in tree.iter("{*}EndToEndId")]
    assert e2e == [c.attempts.get().idempotency_key for c in charges]
    assert [el.text for el in tree.iter("{*}SeqTp")] == ["FRST"]  # first debit under each
    assert DEBTOR_IBAN in batch.document

    notification = camt054_for(batch.document.encode())
    with at(DAY + dt.timedelta(days=2)):
        result = direct_debit_report_import(notification)
        again = direct_debit_report_import(notification)
    assert result.settled == 2 and again.settled == 0 and again.unchanged == 2
    for charge in charges:
        charge.refresh_from_db()
        assert charge.status == ChargeStatus.PAID
        assert charge.attempts.get().status == AttemptStatus.SUCCEEDED
    assert balance(charges[0], AccountPurpose.CLEARING, "auto_debit") == money("1280.50", "EUR")
    assert unbalanced_entries() == []


def test_a_rejected_debit_fails_the_charge_and_schedules_a_retry():
    charge = debit_charge()
    collect(charge)
    with at(DAY):
        (batch,) = direct_debit_batches_create(on=DAY)
    key = charge.attempts.get().idempotency_key

    with at(DAY + dt.timedelta(days=1)):
        result = direct_debit_report_import(
            pain002_for(batch.document.encode(), rejected={key: "AM04"})
        )

    assert result.rejected == 1
    charge.refresh_from_db()
    attempt = charge.attempts.get()
    assert attempt.status == AttemptStatus.FAILED and attempt.error_code == "AM04"
    assert charge.status == ChargeStatus.FAILED
    assert charge.next_attempt_on == DAY + dt.timedelta(days=2)


def test_a_returned_debit_reverses_the_payment_and_the_charge_is_owed_again():
    charge = debit_charge()
    collect(charge)
    with at(DAY):
        (batch,) = direct_debit_batches_create(on=DAY)
    key = charge.attempts.get().idempotency_key
    with at(DAY + dt.timedelta(days=2)):
        direct_debit_report_import(camt054_for(batch.document.encode()))
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID

    returned_on = DAY + dt.timedelta(days=9)
    returns = camt054_for(
        batch.document.encode(), returns={key: "MD06"}, returned_on=returned_on, message_id="NTF-2"
    )
    with at(returned_on):
        result = direct_debit_report_import(returns)
        direct_debit_report_import(returns)  # the same file twice: one reversal

    assert result.returned == 1
    charge.refresh_from_db()
    attempt = charge.attempts.get()
    assert attempt.status == AttemptStatus.RETURNED and attempt.error_code == "MD06"
    assert charge.status == ChargeStatus.FAILED
    assert receivable_left(charge) == money("1200.00", "EUR")
    assert balance(charge, AccountPurpose.CLEARING, "auto_debit") == money("0.00", "EUR")
    assert Alert.objects.get(kind=AlertKind.DEBIT_RETURNED)
    assert unbalanced_entries() == []


def test_no_active_mandate_or_a_charge_above_its_limit_is_not_attempted():
    without = debit_charge(mandate=False)
    over = debit_charge("1200.00", limit="1000.00")
    revoked = debit_charge()
    Mandate.objects.filter(customer=revoked.contract.customer).update(status=MandateStatus.REVOKED)

    assert [collect(c) for c in (without, over, revoked)] == [Outcome.BLOCKED] * 3

    for charge in (without, over, revoked):
        assert not charge.attempts.exists()
    alerts = Alert.objects.filter(kind=AlertKind.COLLECTION_BLOCKED)
    assert alerts.count() == 3
    assert "1,000.00" in alerts.get(customer=over.contract.customer).message or "1000.00" in (
        alerts.get(customer=over.contract.customer).message
    )
    assert not DirectDebitBatch.objects.exists()


def test_a_mandate_limit_in_another_currency_blocks_the_debit_with_an_alert():
    charge = debit_charge("1200.00", limit="100000.00", limit_currency="CNY")

    assert collect(charge) == Outcome.BLOCKED
    assert collect(charge, DAY + dt.timedelta(days=1)) == Outcome.BLOCKED  # every sweep

    assert not charge.attempts.exists()
    alert = Alert.objects.get(kind=AlertKind.COLLECTION_BLOCKED)
    assert "CNY" in alert.message and "EUR" in alert.message
    assert alert.subject == f"charge:{charge.pk}"


def test_the_adapter_is_given_the_mandate_limit_as_money(monkeypatch):
    from payments.adapters.auto_debit import AutoDebitAdapter

    seen = []
    real_collect = AutoDebitAdapter.collect

    def spy(self, request):
        seen.append(request)
        return real_collect(self, request)

    monkeypatch.setattr(AutoDebitAdapter, "collect", spy)
    charge = debit_charge("1200.00", limit="1500.00")

    assert collect(charge) == Outcome.PENDING

    (request,) = seen
    assert request.mandate_limit == money("1500.00", "EUR")


def cancelled_after_batching(charge):
    """The debit goes into a pain.008, then staff cancel the charge: the bank will
    still take the money, which nothing is owed for any more."""
    from payments.services.staff import charge_cancel

    collect(charge)
    with at(DAY):
        (batch,) = direct_debit_batches_create(on=DAY)
        charge_cancel(charge=charge)
    with at(DAY + dt.timedelta(days=2)):
        direct_debit_report_import(camt054_for(batch.document.encode()))
    assert -balance(charge, AccountPurpose.PREPAID) == charge.amount
    return batch


def test_a_returned_debit_takes_back_what_it_credited_to_the_prepaid_balance():
    charge = debit_charge()
    batch = cancelled_after_batching(charge)
    key = charge.attempts.get().idempotency_key
    returns = camt054_for(batch.document.encode(), returns={key: "MD06"}, message_id="NTF-2")

    with at(DAY + dt.timedelta(days=9)):
        result = direct_debit_report_import(returns)
        direct_debit_report_import(returns)  # the same file twice: one reversal

    assert result.returned == 1
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.CANCELLED
    assert charge.attempts.get().status == AttemptStatus.RETURNED
    assert balance(charge, AccountPurpose.PREPAID) == money("0.00", "EUR")
    assert balance(charge, AccountPurpose.CLEARING, "auto_debit") == money("0.00", "EUR")
    assert unbalanced_entries() == []


def test_a_return_whose_prepaid_credit_was_spent_meanwhile_is_left_to_staff():
    from ledger.postings import apply_prepaid

    charge = debit_charge()
    batch = cancelled_after_batching(charge)
    key = charge.attempts.get().idempotency_key
    other = debit_charge(customer=charge.contract.customer)
    apply_prepaid(
        customer_id=charge.contract.customer_id,
        amount=money("1200.00", "EUR"),
        charge_id=other.pk,
        on=DAY + dt.timedelta(days=3),
    )

    with at(DAY + dt.timedelta(days=9)):
        result = direct_debit_report_import(
            camt054_for(batch.document.encode(), returns={key: "MD06"}, message_id="NTF-2")
        )

    assert result.returned == 1
    assert charge.attempts.get().status == AttemptStatus.RETURNED
    alert = Alert.objects.get(kind=AlertKind.DEBIT_RETURNED)
    assert alert.severity == "critical"
    assert key in alert.message and "prepaid balance" in alert.message
    assert unbalanced_entries() == []


def test_a_file_that_is_not_a_bank_report_is_refused_with_its_reason():
    with pytest.raises(Iso20022Error):
        direct_debit_report_import(b"<Document><Foo/></Document>")


def test_a_return_after_the_last_retry_makes_the_charge_overdue_with_an_alert(settings):
    settings.PAYMENT_RETRY_DAYS = []  # no retries: the first failure is final
    charge = debit_charge()
    collect(charge)
    with at(DAY):
        (batch,) = direct_debit_batches_create(on=DAY)
    key = charge.attempts.get().idempotency_key
    with at(DAY + dt.timedelta(days=2)):
        direct_debit_report_import(camt054_for(batch.document.encode()))
    with at(DAY + dt.timedelta(days=9)):
        direct_debit_report_import(
            camt054_for(batch.document.encode(), returns={key: "AM04"}, message_id="NTF-2")
        )

    charge.refresh_from_db()
    assert charge.status == ChargeStatus.OVERDUE and charge.next_attempt_on is None
    assert Alert.objects.filter(kind=AlertKind.CHARGE_OVERDUE).count() == 1
    assert Alert.objects.filter(kind=AlertKind.DEBIT_RETURNED).count() == 1


def test_a_debit_on_the_account_that_is_neither_a_return_nor_a_reversal_changes_nothing():
    charge = debit_charge()
    collect(charge)
    with at(DAY):
        (batch,) = direct_debit_batches_create(on=DAY)
    key = charge.attempts.get().idempotency_key
    with at(DAY + dt.timedelta(days=2)):
        direct_debit_report_import(camt054_for(batch.document.encode()))
    returns = etree.fromstring(
        camt054_for(batch.document.encode(), returns={key: "MD06"}, message_id="NTF-2")
    )
    for element in list(returns.iter("{*}RtrInf")):
        element.getparent().remove(element)  # a bank fee, say, quoting the same id

    with at(DAY + dt.timedelta(days=9)):
        result = direct_debit_report_import(etree.tostring(returns))

    assert result.returned == 0
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert charge.attempts.get().status == AttemptStatus.SUCCEEDED
