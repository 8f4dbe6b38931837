"""Gateway bills against our attempts: a payment its notification already booked is
confirmed, never booked twice; one whose notification was lost is settled by the
bill with the same amount check; fees go to expense and payouts to the bank's cash,
so the gateway's clearing account nets to zero."""

from __future__ import annotations

import pytest

from alerts.choices import Severity
from alerts.models import Alert
from billing.choices import ChargeStatus
from feemgmt.core.money import money
from ledger.cash import cash_account
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from ledger.selectors import account_balance
from ledger.services import account_for
from payments.adapters.sandbox import sandbox_notification, sandbox_settle
from payments.choices import AttemptStatus
from payments.services.collection import Outcome, charge_collect
from payments.services.notifications import notification_receive
from payments.tests.collection_helpers import DAY, billed_charge
from reconciliation.choices import AccountKind, DiscrepancyKind, LineStatus, MatchEffect
from reconciliation.models import Discrepancy, Match, StatementLine
from reconciliation.services import statement_import
from tests.clock import at

from .statements import Entry, camt053, receiving_account
from .test_parse_gateway_bills import ALIPAY_TRADE_HEADER, _alipay, _trade_row

pytestmark = pytest.mark.django_db

ALIPAY_PAYER = "支付宝（中国）网络技术有限公司"


@pytest.fixture
def alipay_account():
    return receiving_account(
        code="alipay",
        name="支付宝商户",
        kind=AccountKind.ALIPAY,
        account_number="2088123456789012",
        receives_transfers=False,
        payout_name=ALIPAY_PAYER,
    )


def qr_charge(amount="3000.91"):  # .91: the sandbox waits for a scan
    charge = billed_charge(amount, method="alipay")
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PENDING
    return charge, charge.attempts.get()


def bill(*rows) -> bytes:
    return _alipay("业务明细", ALIPAY_TRADE_HEADER, list(rows), [])


def paid_row(attempt, amount=None, fee="-18.00", trade_no="2026030222001400000000000001"):
    amount = amount or str(attempt.amount.amount)
    return _trade_row(trade_no, attempt.idempotency_key, "交易", "管理费",
                      "2026-03-02 09:00:00", "2026-03-02 09:00:10", "138****0000",
                      amount, "", fee, "")  # fmt: skip


def notify(attempt):
    sandbox_settle(attempt.idempotency_key)
    with at(DAY):
        headers, body = sandbox_notification(attempt.idempotency_key, adapter="alipay")
        assert notification_receive("alipay", headers, body).status == 200


def run_import(account, data):
    with at(DAY):
        return statement_import(account=account, data=data, filename="bill.csv")


def clearing():
    return account_for(purpose=AccountPurpose.CLEARING, currency="CNY", payment_method="alipay")


def test_a_payment_its_notification_booked_is_confirmed_not_booked_again(alipay_account):
    _charge, attempt = qr_charge()
    notify(attempt)
    payments = JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count()

    summary = run_import(alipay_account, bill(paid_row(attempt)))

    assert summary.format == "alipay" and summary.settled == 1
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == payments
    assert Match.objects.get().effect == MatchEffect.CONFIRMED
    assert StatementLine.objects.get().status == LineStatus.MATCHED


def test_a_lost_notification_is_recovered_from_the_bill(alipay_account):
    charge, attempt = qr_charge()

    run_import(alipay_account, bill(paid_row(attempt)))

    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PAID and attempt.status == AttemptStatus.SUCCEEDED
    assert Match.objects.get().effect == MatchEffect.SETTLED
    # the notification arriving late changes nothing more
    notify(attempt)
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1


def test_a_bill_amount_other_than_asked_is_held_like_a_notification_would_be(alipay_account):
    charge, attempt = qr_charge()

    run_import(alipay_account, bill(paid_row(attempt, amount="2999.00")))

    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING
    assert not JournalEntry.objects.filter(kind=EntryKind.PAYMENT).exists()
    assert Discrepancy.objects.get().kind == DiscrepancyKind.AMOUNT_MISMATCH
    assert Alert.objects.filter(severity=Severity.CRITICAL).exists()


def test_fees_and_the_payout_leave_the_clearing_account_at_zero(alipay_account):
    bank = receiving_account()
    _charge, attempt = qr_charge()
    notify(attempt)

    run_import(alipay_account, bill(paid_row(attempt, fee="-18.00")))
    assert account_balance(clearing()) == money("2982.91", "CNY")  # in transit
    fees = account_for(purpose=AccountPurpose.GATEWAY_FEES, currency="CNY")
    assert account_balance(fees) == money("18.00", "CNY")

    run_import(bank, camt053(Entry("2982.91", "支付宝提现", payer=ALIPAY_PAYER)))

    assert account_balance(clearing()) == money("0.00", "CNY")
    assert account_balance(cash_account("icbc-cny", "CNY")) == money("2982.91", "CNY")
    assert Match.objects.filter(effect=MatchEffect.PAYOUT).count() == 1
    assert not Discrepancy.objects.exists()


def test_payments_the_statements_do_not_show_become_missing_payment_discrepancies(
    alipay_account,
):
    import datetime as dt

    from reconciliation.tasks import find_missing_payments_task

    receiving_account()
    shown, lost = qr_charge(), qr_charge()
    notify(shown[1])
    notify(lost[1])
    run_import(alipay_account, bill(paid_row(shown[1])))  # the bill covers DAY
    late = billed_charge("800.00", method="bank_transfer")
    with at(DAY):
        charge_collect(late.pk, on=DAY)

    assert find_missing_payments_task(on=DAY.isoformat()) == 1  # the unshown gateway payment
    later = (DAY + dt.timedelta(days=15)).isoformat()
    assert find_missing_payments_task(on=later) == 1  # now the transfer too
    assert find_missing_payments_task(on=later) == 0  # raised once
    missing = Discrepancy.objects.filter(kind=DiscrepancyKind.MISSING_PAYMENT)
    assert sorted(missing.values_list("charge_id", flat=True)) == sorted([lost[0].pk, late.pk])


def test_finding_missing_payments_costs_the_same_queries_for_more_of_them():
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.models import AuditEvent
    from reconciliation.services.discrepancies import discrepancies_find_missing

    receiving_account()

    def late_notices(count):
        for n in range(count):
            charge = billed_charge(f"{800 + n}.00", method="bank_transfer")
            with at(DAY):
                charge_collect(charge.pk, on=DAY)

    later = DAY + dt.timedelta(days=15)
    late_notices(2)
    with CaptureQueriesContext(connection) as few:
        assert discrepancies_find_missing(on=later) == 2
    late_notices(7)
    with CaptureQueriesContext(connection) as many:
        assert discrepancies_find_missing(on=later) == 7

    assert len(many.captured_queries) == len(few.captured_queries)
    events = AuditEvent.objects.filter(action="discrepancies.found_missing")
    assert events.count() == 2  # one event each time, not one per discrepancy
