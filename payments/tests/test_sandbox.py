"""The sandbox gateway's scripted outcomes and its notification checks."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.test import override_settings

from feemgmt.core.money import money
from payments.adapters import (
    ActionKind,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    GatewayTimeout,
    NotificationRejected,
    get_adapter,
)
from payments.adapters.sandbox import (
    GATEWAY,
    SIGNATURE_HEADER,
    sandbox_deliveries,
    sandbox_notification,
    sandbox_settle,
)

SECRET = "test-secret-3f9a"
SANDBOX = {
    "sandbox": {
        "class": "payments.adapters.sandbox.SandboxAdapter",
        "options": {"secret": SECRET, "slow_seconds": 0.05},
    }
}


@pytest.fixture(autouse=True)
def _sandbox_settings():
    with override_settings(PAYMENT_ADAPTERS=SANDBOX):
        yield


@pytest.fixture
def adapter():
    return get_adapter("sandbox")


def request(key="CHG-0001-A1", amount="100.00", outcome=None, currency="CNY"):
    return CollectionRequest(
        idempotency_key=key,
        amount=money(amount, currency),
        reference="CHG-0001",
        description="Client management fee",
        customer_ref="CUST-1",
        metadata={"sandbox_outcome": outcome} if outcome else {},
    )


# --- Scripted outcomes ---------------------------------------------------------------


def test_success_debits_once(adapter):
    result = adapter.collect(request(outcome="success"))
    assert result.status == AttemptStatus.SUCCEEDED
    assert result.provider_reference.startswith("SBX")
    assert result.error_code is None and result.action is None
    assert GATEWAY.debits() == [("CHG-0001-A1", money("100.00", "CNY"))]


@pytest.mark.parametrize(
    ("outcome", "code"),
    [("decline", "card_declined"), ("insufficient_funds", "insufficient_funds")],
)
def test_a_decline_takes_no_money_and_says_why(adapter, outcome, code):
    result = adapter.collect(request(outcome=outcome))
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == code
    assert result.error_message  # the English wording (tests run in English)
    assert result.amount is None
    assert GATEWAY.debits() == []
    assert adapter.query("CHG-0001-A1").status == AttemptStatus.DECLINED


def test_timeout_then_success_took_the_money_and_a_query_says_so(adapter):
    with pytest.raises(GatewayTimeout) as timeout:
        adapter.collect(request(outcome="timeout_then_success"))
    assert timeout.value.status == AttemptStatus.UNKNOWN
    assert timeout.value.code == "gateway_timeout"

    queried = adapter.query("CHG-0001-A1")
    assert queried.status == AttemptStatus.SUCCEEDED
    # Retrying with the same key returns the payment that went through: no second debit.
    assert adapter.collect(request(outcome="timeout_then_success")).status == "succeeded"
    assert len(GATEWAY.debits("CHG-0001-A1")) == 1


def test_timeout_failed_took_nothing_and_a_query_says_declined(adapter):
    with pytest.raises(GatewayTimeout):
        adapter.collect(request(outcome="timeout_failed"))
    assert adapter.query("CHG-0001-A1").status == AttemptStatus.DECLINED
    assert GATEWAY.debits() == []


def test_duplicate_notification_is_delivered_twice_and_parses_the_same(adapter):
    adapter.collect(request(outcome="duplicate_notification"))
    deliveries = sandbox_deliveries("CHG-0001-A1")
    assert len(deliveries) == 2
    first, second = (adapter.parse_notification(h, b) for h, b in deliveries)
    assert first == second
    assert first.status == AttemptStatus.SUCCEEDED
    assert len(GATEWAY.debits()) == 1


def test_an_ordinary_payment_is_notified_once(adapter):
    adapter.collect(request())
    assert len(sandbox_deliveries("CHG-0001-A1")) == 1


def test_slow_answers_after_the_configured_delay(adapter):
    started = time.monotonic()
    result = adapter.collect(request(outcome="slow"))
    elapsed = time.monotonic() - started
    assert result.status == AttemptStatus.SUCCEEDED
    assert elapsed >= 0.05


def test_pending_shows_a_qr_code_until_the_customer_pays(adapter):
    pending = adapter.collect(request(outcome="pending"))
    assert pending.status == AttemptStatus.PENDING
    assert pending.action.kind == ActionKind.QR_CODE
    assert pending.provider_reference in pending.action.value
    assert sandbox_deliveries("CHG-0001-A1") == []

    sandbox_settle("CHG-0001-A1")
    assert adapter.query("CHG-0001-A1").status == AttemptStatus.SUCCEEDED
    notification = adapter.parse_notification(*sandbox_notification("CHG-0001-A1"))
    assert notification.status == AttemptStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("amount", "status", "code"),
    [
        ("100.00", "succeeded", None),
        ("100.51", "declined", "card_declined"),
        ("100.52", "declined", "insufficient_funds"),
        ("100.71", "succeeded", None),
        ("100.91", "pending", None),
    ],
)
def test_the_amounts_cents_script_the_outcome(adapter, amount, status, code):
    result = adapter.collect(request(amount=amount))
    assert (result.status, result.error_code) == (status, code)


@pytest.mark.parametrize("amount", ["100.61", "100.62"])
def test_cents_61_and_62_time_out(adapter, amount):
    with pytest.raises(GatewayTimeout):
        adapter.collect(request(amount=amount))


def test_yen_has_no_cents_so_the_last_two_digits_script_it(adapter):
    result = adapter.collect(request(amount="1051", currency="JPY"))
    assert result.error_code == "card_declined"


def test_the_adapter_option_forces_an_outcome():
    forced = {"sandbox": {**SANDBOX["sandbox"], "options": {"secret": SECRET}}}
    forced["sandbox"]["options"]["sandbox_outcome"] = "decline"
    with override_settings(PAYMENT_ADAPTERS=forced):
        assert get_adapter("sandbox").collect(request()).status == AttemptStatus.DECLINED


def test_metadata_beats_the_cents(adapter):
    assert adapter.collect(request(amount="100.51", outcome="success")).status == "succeeded"


def test_an_unknown_scripted_outcome_is_an_adapter_error(adapter):
    with pytest.raises(AdapterError):
        adapter.collect(request(outcome="explode"))


def test_reusing_a_key_for_another_amount_is_refused(adapter):
    adapter.collect(request(amount="100.00"))
    with pytest.raises(AdapterError) as error:
        adapter.collect(request(amount="200.00"))
    assert error.value.code == "idempotency_conflict"
    assert len(GATEWAY.debits()) == 1


def test_fifty_threads_with_one_key_debit_exactly_once(adapter):
    # "slow" holds the first request inside the gateway for 50 ms, so without the
    # per-key lock every thread would find no payment yet and debit again.
    start = threading.Barrier(50)

    def collect(_):
        start.wait()
        return adapter.collect(request(outcome="slow"))

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(collect, range(50)))

    assert len(GATEWAY.debits("CHG-0001-A1")) == 1
    assert {r.provider_reference for r in results} == {results[0].provider_reference}
    assert {r.status for r in results} == {AttemptStatus.SUCCEEDED}


def test_different_keys_are_not_serialised():
    # Slow requests for different keys run side by side: ten 0.1 s requests take about
    # 0.1 s, where a gateway-wide lock would queue them for 1 s.
    slower = {"sandbox": {**SANDBOX["sandbox"], "options": {"secret": SECRET, "slow_seconds": 0.1}}}
    start = threading.Barrier(10)
    with override_settings(PAYMENT_ADAPTERS=slower):
        adapter = get_adapter("sandbox")

        def collect(i):
            start.wait()
            return adapter.collect(request(key=f"CHG-{i:04d}-A1", outcome="slow"))

        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(collect, range(10)))
        elapsed = time.monotonic() - began
    assert elapsed < 0.6
    assert len(GATEWAY.debits()) == 10


# --- Notifications -----------------------------------------------------------------


@pytest.fixture
def paid(adapter):
    adapter.collect(request())
    return "CHG-0001-A1"


def test_a_signed_notification_parses(adapter, paid):
    headers, body = sandbox_notification(paid)
    notification = adapter.parse_notification(headers, body)
    assert notification.amount == money("100.00", "CNY")
    assert notification.ack_body == b"success" and notification.ack_status == 200
    assert SIGNATURE_HEADER not in notification.raw and "signature" not in notification.raw


def test_header_names_are_case_insensitive(adapter, paid):
    headers, body = sandbox_notification(paid)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert adapter.parse_notification(lowered, body).idempotency_key == paid


def test_a_tampered_body_is_rejected(adapter, paid):
    headers, body = sandbox_notification(paid)
    tampered = body.replace(b'"amount":"100.00"', b'"amount":"1.00"')
    assert tampered != body
    with pytest.raises(NotificationRejected) as rejected:
        adapter.parse_notification(headers, tampered)
    assert rejected.value.reason == "bad_signature"
    assert rejected.value.ack_status == 400 and rejected.value.ack_body == b"fail"


@pytest.mark.parametrize(
    "signature", ["", "0" * 64, "not-hex", "sha256=deadbeef"], ids=["empty", "zeros", "junk", "x"]
)
def test_a_wrong_signature_is_rejected(adapter, paid, signature):
    headers, body = sandbox_notification(paid)
    headers[SIGNATURE_HEADER] = signature
    with pytest.raises(NotificationRejected) as rejected:
        adapter.parse_notification(headers, body)
    assert rejected.value.reason == "bad_signature"


def test_a_missing_signature_is_rejected(adapter, paid):
    headers, body = sandbox_notification(paid)
    del headers[SIGNATURE_HEADER]
    with pytest.raises(NotificationRejected, match="signature"):
        adapter.parse_notification(headers, body)


def test_a_notification_signed_with_another_secret_is_rejected(paid):
    other = {"sandbox": {**SANDBOX["sandbox"], "options": {"secret": "someone-else"}}}
    with override_settings(PAYMENT_ADAPTERS=other):
        headers, body = sandbox_notification(paid)
    with pytest.raises(NotificationRejected) as rejected:
        get_adapter("sandbox").parse_notification(headers, body)
    assert rejected.value.reason == "bad_signature"


def test_a_stale_notification_is_rejected(adapter, paid):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        headers, body = sandbox_notification(paid)
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 5, tzinfo=dt.UTC), tick=False):
        assert adapter.parse_notification(headers, body).idempotency_key == paid  # 5 min: ok
    with (
        time_machine.travel(dt.datetime(2026, 3, 1, 12, 5, 1, tzinfo=dt.UTC), tick=False),
        pytest.raises(NotificationRejected) as rejected,
    ):
        adapter.parse_notification(headers, body)
    assert rejected.value.reason == "stale_timestamp"


def test_a_notification_from_the_future_is_rejected(adapter, paid):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 10, tzinfo=dt.UTC), tick=False):
        headers, body = sandbox_notification(paid)
    with (
        time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False),
        pytest.raises(NotificationRejected, match="outside the window"),
    ):
        adapter.parse_notification(headers, body)


def test_a_signed_notification_with_another_amount_is_rejected(adapter, paid):
    headers, body = sandbox_notification(paid, amount="99.99")
    with pytest.raises(NotificationRejected) as rejected:
        adapter.parse_notification(headers, body)
    assert rejected.value.reason == "amount_mismatch"


def test_a_signed_notification_in_another_currency_is_rejected(adapter, paid):
    with pytest.raises(NotificationRejected, match="amount"):
        adapter.parse_notification(*sandbox_notification(paid, currency="USD"))


def test_a_notification_for_another_app_is_rejected(adapter, paid):
    with pytest.raises(NotificationRejected) as rejected:
        adapter.parse_notification(*sandbox_notification(paid, app_id="other-app"))
    assert rejected.value.reason == "wrong_app_id"


def test_a_notification_for_an_unknown_payment_is_rejected(adapter, paid):
    with pytest.raises(NotificationRejected) as rejected:
        adapter.parse_notification(*sandbox_notification(paid, out_trade_no="CHG-9999-A1"))
    assert rejected.value.reason == "unknown_payment"


def test_a_signed_but_unreadable_body_is_rejected(adapter):
    body = b"{not json"
    with pytest.raises(NotificationRejected) as rejected:
        adapter.parse_notification({SIGNATURE_HEADER: adapter.sign(body)}, body)
    assert rejected.value.reason == "malformed"
    fields = json.dumps({"out_trade_no": "X"}).encode()
    with pytest.raises(NotificationRejected, match="could not be read"):
        adapter.parse_notification({SIGNATURE_HEADER: adapter.sign(fields)}, fields)


def test_the_service_side_amount_check(adapter, paid):
    notification = adapter.parse_notification(*sandbox_notification(paid))
    notification.verify_amount(money("100.00", "CNY"))
    with pytest.raises(NotificationRejected, match="amount"):
        notification.verify_amount(money("100.01", "CNY"))


# --- Requests are checked before anything is sent ----------------------------------------


@pytest.mark.parametrize("key", ["", "short", "x" * 33, "has space1", "中文中文中文"])
def test_an_idempotency_key_every_gateway_accepts(key):
    with pytest.raises(ValueError, match="idempotency key"):
        request(key=key)


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "1.005"])
def test_amounts_are_positive_and_quantized(amount):
    from moneyed import Money

    with pytest.raises(ValueError, match="amount"):
        CollectionRequest(
            idempotency_key="CHG-0001-A1",
            amount=Money(amount, "CNY"),
            reference="r",
            description="d",
            customer_ref="c",
        )
