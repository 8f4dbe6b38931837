"""Collecting a charge through the sandbox gateway: prepaid first, then the
adapter; declines retried on the schedule, then overdue; a timeout resolved by
query; money never lost nor taken twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from alerts.choices import AlertKind
from alerts.models import Alert
from billing.choices import ChargeStatus
from feemgmt.core.money import money
from ledger.choices import AccountPurpose
from ledger.postings import charge_subject, post_prepayment
from ledger.selectors import account_balance, unbalanced_entries
from ledger.services import account_for
from payments.adapters.sandbox import GATEWAY, sandbox_notification, sandbox_settle
from payments.choices import AttemptStatus
from payments.models import InboundNotification, PaymentAttempt
from payments.services.collection import Outcome, charge_collect, collectable_charge_ids
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at

pytestmark = pytest.mark.django_db


def balance(charge, purpose, method=""):
    account = account_for(
        purpose=purpose,
        currency=charge.amount.currency.code,
        customer_id=None if method else charge.contract.customer_id,
        payment_method=method,
    )
    return account_balance(account)


def receivable_left(charge):
    from ledger.selectors import subject_balance

    account = account_for(
        purpose=AccountPurpose.RECEIVABLE,
        currency=charge.amount.currency.code,
        customer_id=charge.contract.customer_id,
    )
    return subject_balance(account=account, subject=charge_subject(charge.pk))


def collect(charge, day=DAY, **kwargs):
    with at(day):
        return charge_collect(charge.pk, on=day, **kwargs)


def test_a_due_charge_is_collected_once_and_booked():
    charge = billed_charge("3000.00")
    assert collectable_charge_ids(on=DAY) == [charge.pk]

    assert collect(charge) == Outcome.PAID

    charge.refresh_from_db()
    (attempt,) = charge.attempts.all()
    assert charge.status == ChargeStatus.PAID and charge.next_attempt_on is None
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert attempt.idempotency_key == f"CH{charge.pk:06d}-01"
    assert attempt.amount == money("3000.00", "CNY") and attempt.provider_reference
    assert GATEWAY.debits(attempt.idempotency_key) == [(attempt.idempotency_key, attempt.amount)]
    assert receivable_left(charge) == money("0.00", "CNY")
    assert balance(charge, AccountPurpose.CLEARING, "sandbox") == money("3000.00", "CNY")
    assert unbalanced_entries() == []
    # Nothing is left to do: a repeat neither collects nor books again.
    assert collect(charge) == Outcome.NOT_DUE
    assert len(GATEWAY.debits()) == 1 and charge.attempts.count() == 1
    assert collectable_charge_ids(on=DAY) == []


def test_a_charge_is_not_collected_before_its_date():
    charge = billed_charge()
    assert collect(charge, DAY - dt.timedelta(days=1)) == Outcome.NOT_DUE
    assert not PaymentAttempt.objects.exists()


def test_the_prepaid_balance_is_applied_first_and_the_gateway_takes_the_rest():
    charge = billed_charge("3000.00")
    post_prepayment(
        customer_id=charge.contract.customer_id,
        amount=money("1200.50", "CNY"),
        method="bank_transfer",
        reference="TOPUP-1",
        on=DAY,
    )

    assert collect(charge) == Outcome.PAID

    (attempt,) = charge.attempts.all()
    assert attempt.amount == money("1799.50", "CNY")
    assert balance(charge, AccountPurpose.PREPAID) == money("0.00", "CNY")
    assert receivable_left(charge) == money("0.00", "CNY")


def test_a_prepaid_balance_that_covers_the_charge_needs_no_gateway():
    charge = billed_charge("3000.00")
    post_prepayment(
        customer_id=charge.contract.customer_id,
        amount=money("5000.00", "CNY"),
        method="bank_transfer",
        reference="TOPUP-1",
        on=DAY,
    )

    assert collect(charge) == Outcome.PAID

    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID and not charge.attempts.exists()
    assert -balance(charge, AccountPurpose.PREPAID) == money("2000.00", "CNY")
    assert GATEWAY.debits() == []


def test_declines_are_retried_on_the_schedule_then_the_charge_is_overdue(settings):
    settings.PAYMENT_RETRY_DAYS = [1, 3, 7]
    charge = billed_charge("3000.51")  # the sandbox declines .51
    days = [DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=4)]
    days.append(days[-1] + dt.timedelta(days=7))

    assert collect(charge, days[0]) == Outcome.FAILED
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED and charge.next_attempt_on == days[1]
    # Not before the retry date, however often the sweep comes by.
    assert collect(charge, days[0]) == Outcome.NOT_DUE
    assert collect(charge, days[1]) == Outcome.FAILED
    assert collect(charge, days[2]) == Outcome.FAILED
    assert collect(charge, days[3]) == Outcome.OVERDUE

    charge.refresh_from_db()
    attempts = list(charge.attempts.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3, 4]
    assert {a.status for a in attempts} == {AttemptStatus.FAILED}
    assert {a.error_code for a in attempts} == {"card_declined"}
    assert charge.status == ChargeStatus.OVERDUE and charge.next_attempt_on is None
    alert = Alert.objects.get(kind=AlertKind.CHARGE_OVERDUE)
    assert alert.subject == charge_subject(charge.pk)
    assert GATEWAY.debits() == []
    assert receivable_left(charge) == money("3000.51", "CNY")


def test_the_overdue_alert_states_what_is_still_owed_after_a_prepaid_part(settings):
    settings.PAYMENT_RETRY_DAYS = []  # the first decline is final
    charge = billed_charge("3000.00")
    post_prepayment(
        customer_id=charge.contract.customer_id,
        amount=money("999.49", "CNY"),
        method="bank_transfer",
        reference="TOPUP-1",
        on=DAY,
    )

    assert collect(charge) == Outcome.OVERDUE  # 2000.51 asked and declined

    message = Alert.objects.get(kind=AlertKind.CHARGE_OVERDUE).message
    owed = message.split("is overdue:")[1]
    assert "2000.51" in owed and "3,000.00" not in owed and "3000.00" not in owed


def test_a_timeout_is_unknown_and_resolved_by_query_without_a_second_debit():
    charge = billed_charge("3000.61")  # times out, but the gateway took the money

    assert collect(charge) == Outcome.UNKNOWN
    (attempt,) = charge.attempts.all()
    assert attempt.status == AttemptStatus.UNKNOWN and attempt.error_code == "gateway_timeout"
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING and charge.next_attempt_on == DAY

    assert collect(charge) == Outcome.PAID  # the next sweep queries first

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert charge.attempts.count() == 1
    assert len(GATEWAY.debits(attempt.idempotency_key)) == 1
    assert receivable_left(charge) == money("0.00", "CNY")


def test_a_timeout_the_gateway_never_received_is_sent_again_with_the_same_key(monkeypatch):
    charge = billed_charge("3000.00")
    from payments.adapters import GatewayTimeout
    from payments.adapters.sandbox import SandboxAdapter

    real_collect = SandboxAdapter.collect
    monkeypatch.setattr(
        SandboxAdapter, "collect", lambda self, request: (_ for _ in ()).throw(GatewayTimeout())
    )
    assert collect(charge) == Outcome.UNKNOWN
    monkeypatch.setattr(SandboxAdapter, "collect", real_collect)

    assert collect(charge) == Outcome.PAID  # query: not found → ask again, same key

    (attempt,) = charge.attempts.all()
    assert attempt.number == 1 and len(GATEWAY.debits(attempt.idempotency_key)) == 1


def test_a_timeout_then_decline_follows_the_retry_schedule():
    charge = billed_charge("3000.62")
    assert collect(charge) == Outcome.UNKNOWN
    assert collect(charge) == Outcome.FAILED
    charge.refresh_from_db()
    assert charge.next_attempt_on == DAY + dt.timedelta(days=1)


def test_a_pending_payment_is_settled_by_the_gateway_notification(client):
    charge = billed_charge("3000.91")  # the customer must scan a QR code
    assert collect(charge) == Outcome.PENDING
    (attempt,) = charge.attempts.all()
    assert attempt.status == AttemptStatus.PENDING
    assert attempt.action_kind == "qr_code" and attempt.action_value
    charge.refresh_from_db()
    assert charge.next_attempt_on == DAY + dt.timedelta(days=1)

    sandbox_settle(attempt.idempotency_key)
    with at(DAY):
        headers, body = sandbox_notification(attempt.idempotency_key)
    url = reverse("payments:notify", kwargs={"method": "sandbox"})
    for _ in range(3):  # gateways repeat their notifications
        with at(DAY):
            response = client.post(url, body, content_type="application/json", headers=headers)
        assert response.status_code == 200

    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PAID and attempt.status == AttemptStatus.SUCCEEDED
    assert balance(charge, AccountPurpose.CLEARING, "sandbox") == money("3000.91", "CNY")
    assert InboundNotification.objects.filter(accepted=True).count() == 3


def test_a_tampered_notification_is_refused_and_changes_nothing(client):
    charge = billed_charge("3000.91")
    collect(charge)
    (attempt,) = charge.attempts.all()
    sandbox_settle(attempt.idempotency_key)
    with at(DAY):
        headers, body = sandbox_notification(attempt.idempotency_key)
    tampered = body.replace(b"3000.91", b"3000.90")

    url = reverse("payments:notify", kwargs={"method": "sandbox"})
    with at(DAY):
        response = client.post(url, tampered, content_type="application/json", headers=headers)

    assert response.status_code == 400
    attempt.refresh_from_db()
    charge.refresh_from_db()
    assert attempt.status == AttemptStatus.PENDING and charge.status == ChargeStatus.PENDING
    assert balance(charge, AccountPurpose.CLEARING, "sandbox") == money("0.00", "CNY")
    assert InboundNotification.objects.get().reason == "bad_signature"


def test_a_notification_for_a_payment_we_never_asked_for_is_refused(client):
    charge = billed_charge("3000.00")
    collect(charge)
    attempt = charge.attempts.get()
    with at(DAY):
        headers, body = sandbox_notification(attempt.idempotency_key)
    attempt.delete()  # as if the key were not ours

    url = reverse("payments:notify", kwargs={"method": "sandbox"})
    with at(DAY):
        response = client.post(url, body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert InboundNotification.objects.get().reason == "unknown_payment"


def test_a_second_payment_for_a_settled_charge_goes_to_the_prepaid_balance():
    from payments.adapters import CollectionResult
    from payments.services.collection import record_result

    charge = billed_charge("3000.91")
    collect(charge)
    first = charge.attempts.get()
    sandbox_settle(first.idempotency_key)
    assert collect(charge, DAY + dt.timedelta(days=1)) == Outcome.PAID
    # The customer had also paid an older QR code of the same charge.
    extra = PaymentAttempt.objects.create(
        charge=charge,
        number=2,
        idempotency_key=f"CH{charge.pk:06d}-02",
        method="sandbox",
        amount=money("3000.91", "CNY"),
        status=AttemptStatus.CANCELLED,
    )
    with at(DAY):
        record_result(
            extra.pk,
            CollectionResult(
                status="succeeded", provider_reference="SBX-LATE", amount=extra.amount
            ),
            on=DAY,
        )

    assert -balance(charge, AccountPurpose.PREPAID) == money("3000.91", "CNY")
    assert Alert.objects.filter(kind=AlertKind.UNEXPECTED_PAYMENT).count() == 1
    assert unbalanced_entries() == []


def test_a_method_without_an_adapter_blocks_the_charge_with_an_alert(settings):
    charge = billed_charge("3000.00")
    settings.PAYMENT_ADAPTERS = {
        k: v for k, v in settings.PAYMENT_ADAPTERS.items() if k != "sandbox"
    }

    assert collect(charge) == Outcome.BLOCKED
    assert collect(charge) == Outcome.NOT_DUE  # looked at again tomorrow, one alert

    charge.refresh_from_db()
    assert charge.next_attempt_on == DAY + dt.timedelta(days=1)
    assert not charge.attempts.exists()
    assert Alert.objects.get(kind=AlertKind.COLLECTION_BLOCKED).subject == charge_subject(charge.pk)


def _timeout_after(real):
    """A collect that reaches the gateway, then loses the answer."""
    from payments.adapters import GatewayTimeout

    def collect(self, request):
        real(self, request)
        raise GatewayTimeout()

    return collect


def test_a_qr_code_lost_in_a_timeout_is_fetched_again_with_the_same_key(monkeypatch):
    from payments.adapters.sandbox import SandboxAdapter

    charge = billed_charge("3000.91")  # pending: the customer must scan
    real = SandboxAdapter.collect
    monkeypatch.setattr(SandboxAdapter, "collect", _timeout_after(real))
    assert collect(charge) == Outcome.UNKNOWN
    monkeypatch.setattr(SandboxAdapter, "collect", real)

    assert collect(charge) == Outcome.PENDING  # query: pending, but no QR code yet

    (attempt,) = charge.attempts.all()
    assert attempt.status == AttemptStatus.PENDING and attempt.number == 1
    assert attempt.action_kind == "qr_code" and attempt.action_value


def test_a_pending_payment_the_gateway_does_not_know_yet_stays_pending(monkeypatch):
    from payments.adapters import CollectionResult
    from payments.adapters.sandbox import SandboxAdapter

    charge = billed_charge("3000.91")
    assert collect(charge) == Outcome.PENDING
    # Some gateways only create the trade when the QR code is scanned.
    monkeypatch.setattr(
        SandboxAdapter,
        "query",
        lambda self, key, ref=None: CollectionResult(status="declined", error_code="not_found"),
    )
    next_day = DAY + dt.timedelta(days=1)

    assert collect(charge, next_day) == Outcome.PENDING

    (attempt,) = charge.attempts.all()
    charge.refresh_from_db()
    assert attempt.status == AttemptStatus.PENDING and attempt.action_value
    assert charge.status == ChargeStatus.PENDING
    assert charge.next_attempt_on == next_day + dt.timedelta(days=1)


def test_a_gateway_that_cannot_be_asked_leaves_a_pending_payment_pending(monkeypatch):
    from payments.adapters import GatewayTimeout
    from payments.adapters.sandbox import SandboxAdapter

    charge = billed_charge("3000.91")
    collect(charge)

    def query(self, key, ref=None):
        raise GatewayTimeout()

    monkeypatch.setattr(SandboxAdapter, "query", query)
    next_day = DAY + dt.timedelta(days=1)

    assert collect(charge, next_day) == Outcome.PENDING

    (attempt,) = charge.attempts.all()
    charge.refresh_from_db()
    assert attempt.status == AttemptStatus.PENDING
    assert attempt.error_code == "gateway_timeout"
    assert charge.next_attempt_on == next_day  # asked again on the next sweep


def test_a_method_whose_adapter_cannot_load_blocks_the_charge(settings):
    charge = billed_charge("3000.00")
    settings.PAYMENT_ADAPTERS = {
        **settings.PAYMENT_ADAPTERS,
        "sandbox": {"class": "payments.adapters.nowhere.Adapter", "options": {}},
    }

    assert collect(charge) == Outcome.BLOCKED
    assert not charge.attempts.exists()
    assert "nowhere" in Alert.objects.get(kind=AlertKind.COLLECTION_BLOCKED).message
