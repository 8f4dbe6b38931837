"""The Alipay adapter against the local fake gateway: signing both ways, collections,
timeouts, queries, refunds and notification checks."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

from feemgmt.core.money import money
from payments.adapters import (
    ActionKind,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    GatewayTimeout,
    Notification,
    NotificationRejected,
    RefundRequest,
    get_adapter,
)
from payments.adapters.alipay import AlipayAdapter
from payments.adapters.alipay.client import response_nodes
from payments.adapters.base import thaw
from payments.tests.fakes.alipay import FakeAlipay, key_pair
from payments.tests.fakes.alipay import fake_alipay as fake_alipay  # the shared fixture

BEIJING = dt.timezone(dt.timedelta(hours=8))
INTRUDER = key_pair("intruder")


@pytest.fixture
def fake(settings):
    with FakeAlipay(adapter_timeout=0.5) as gateway:
        gateway.install(settings)
        yield gateway


@pytest.fixture
def adapter(fake):
    return get_adapter("alipay")


_numbers = iter(range(1, 10**6))


def collection(amount="100.00", *, key=None, currency="CNY", description="Management fee, March"):
    return CollectionRequest(
        idempotency_key=key or f"ALI{next(_numbers):06d}",
        amount=money(amount, currency),
        reference="CHG-0042",
        description=description,
        customer_ref="CUST-7",
        notify_url="https://fees.example.com/payments/notify/alipay/",
    )


def paid(fake, adapter, amount="100.00", **kwargs):
    """A collection the customer has paid: (request, SUCCEEDED result)."""
    request = collection(amount, **kwargs)
    pending = adapter.collect(request)
    fake.pay_qr(pending.action.value)
    return request, adapter.collect(request)


def refund_of(result, amount, key="RFD-000001", currency="CNY"):
    return RefundRequest(
        idempotency_key=key,
        amount=money(amount, currency),
        provider_reference=result.provider_reference,
        reason="overcharged",
    )


def beijing(delta=dt.timedelta(0)) -> str:
    return (dt.datetime.now(BEIJING) + delta).strftime("%Y-%m-%d %H:%M:%S")


def rejection(adapter, headers, body) -> NotificationRejected:
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(headers, body)
    assert caught.value.ack_body == b"fail"
    assert caught.value.ack_status == 400
    return caught.value


# --- configuration ------------------------------------------------------------------


def test_the_adapter_needs_its_merchant_options(fake):
    options = fake.adapter_options()
    for missing in ("app_id", "seller_id", "app_private_key", "alipay_public_key"):
        with pytest.raises(ImproperlyConfigured, match=missing):
            AlipayAdapter(**{**options, missing: ""})
    with pytest.raises(ImproperlyConfigured, match="product"):
        AlipayAdapter(**options, product="barcode")
    with pytest.raises(ImproperlyConfigured, match="PEM"):
        AlipayAdapter(**{**options, "alipay_public_key": "not a key"})


def test_repr_shows_no_key(fake, adapter):
    text = repr(adapter) + repr(adapter.client)
    for secret in fake.secrets():
        assert secret not in text
    assert "PRIVATE" not in text


def test_the_shared_fixture_installs_a_running_fake(request):
    gateway = request.getfixturevalue("fake_alipay")
    adapter = get_adapter("alipay")
    assert isinstance(adapter, AlipayAdapter)
    assert adapter.client.gateway_url == gateway.url
    assert adapter.query("ALI-FIXTURE").error_code == "not_found"


# --- signing both ways --------------------------------------------------------------


def test_requests_are_rsa2_signed_and_the_gateway_verifies_them(fake, adapter):
    request = collection("123.40", description="物业费 3月 a/b=c&d")
    adapter.collect(request)

    (call,) = fake.calls("alipay.trade.precreate")
    assert call.signature_ok
    params = call.params
    assert params["app_id"] == fake.app_id
    assert (params["charset"], params["sign_type"], params["version"]) == ("utf-8", "RSA2", "1.0")
    assert params["notify_url"] == request.notify_url
    sent = dt.datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    assert abs(sent - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)  # Beijing time
    assert call.biz_content == {
        "out_trade_no": request.idempotency_key,
        "total_amount": "123.40",
        "subject": "物业费 3月 a b c d",
        "body": "CHG-0042",
    }


def test_a_request_signed_with_another_key_is_refused_by_the_gateway(fake, settings):
    fake.install(settings, app_private_key=INTRUDER.private_pem)
    request = collection()

    with pytest.raises(AdapterError) as caught:
        get_adapter("alipay").collect(request)

    assert caught.value.code == "alipay_rejected"
    assert "isv.invalid-signature" in caught.value.detail
    assert fake.calls()[0].signature_ok is False
    assert fake.trade(request.idempotency_key) is None


def test_an_answer_signed_with_another_key_is_not_trusted(fake, adapter):
    request, _ = paid(fake, adapter)
    fake.sign_responses_with(INTRUDER.private_pem)

    for call in (
        lambda: adapter.query(request.idempotency_key),
        lambda: adapter.collect(request),
        lambda: adapter.collect(collection()),
    ):
        with pytest.raises(AdapterError) as caught:
            call()
        assert caught.value.code == "alipay_bad_response"

    fake.sign_responses_with(None)
    assert adapter.query(request.idempotency_key).status == AttemptStatus.SUCCEEDED


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda text: text.replace('"88.00"', '"8.00"'), id="amount-altered"),
        pytest.param(lambda text: text[: text.index(',"sign"')] + "}", id="unsigned"),
        pytest.param(
            lambda text: text.replace('{"alipay_trade_query_response":', '{"x":1,"x":', 1),
            id="repeated-member",
        ),
        pytest.param(lambda text: "<html>502 Bad Gateway</html>", id="not-json"),
    ],
)
def test_an_altered_or_unsigned_answer_is_not_trusted(fake, adapter, mangle):
    request, _ = paid(fake, adapter, "88.00")
    fake.mangle_response = mangle

    with pytest.raises(AdapterError) as caught:
        adapter.query(request.idempotency_key)
    assert caught.value.code == "alipay_bad_response"


def test_the_signed_node_is_cut_out_exactly_even_with_braces_in_strings():
    text = ' { "a_response" : {"sub_msg":"}{\\"}","n":[1,{"x":"}"}]} , "sign":"c2ln" } '
    nodes = response_nodes(text)
    assert nodes == {"a_response": '{"sub_msg":"}{\\"}","n":[1,{"x":"}"}]}', "sign": '"c2ln"'}
    for bad in ('{"a":1,"a":2}', '{"a":1} {"b":2}', "[1]", '{"a":1,}'):
        with pytest.raises(ValueError):
            response_nodes(bad)


# --- collections --------------------------------------------------------------------


def test_collect_answers_a_qr_code_to_scan(fake, adapter):
    request = collection("100.00")
    result = adapter.collect(request)

    assert result.status == AttemptStatus.PENDING
    assert result.action.kind == ActionKind.QR_CODE
    assert result.action.value == fake.trade(request.idempotency_key).qr_code
    assert result.action.value.startswith("https://qr.alipay.com/")
    assert result.provider_reference == request.idempotency_key  # no trade_no before a scan
    assert result.amount is None
    assert "sign" not in thaw(result.raw)["request"]


def test_collect_again_before_payment_gives_the_same_qr_code(fake, adapter):
    request = collection()
    first, again = adapter.collect(request), adapter.collect(request)
    assert again.status == AttemptStatus.PENDING
    assert again.action == first.action


def test_collect_again_after_payment_succeeds_without_a_second_trade(fake, adapter):
    request = collection("100.00")
    pending = adapter.collect(request)
    trade = fake.pay_qr(pending.action.value)

    result = adapter.collect(request)
    again = adapter.collect(request)

    assert result.status == again.status == AttemptStatus.SUCCEEDED
    assert result.provider_reference == again.provider_reference == trade.trade_no
    assert result.amount == money("100.00", "CNY")
    assert result.action is None
    assert fake.debits(request.idempotency_key) == 1
    assert len(fake.calls("alipay.trade.precreate")) == 3
    assert thaw(result.raw)["before"]["response"]["sub_code"] == "ACQ.TRADE_HAS_SUCCESS"


def test_the_same_key_for_another_amount_is_an_idempotency_conflict(fake, adapter):
    adapter.collect(collection("100.00", key="ALI-CONFLICT"))
    with pytest.raises(AdapterError) as caught:
        adapter.collect(collection("90.00", key="ALI-CONFLICT"))
    assert caught.value.code == "idempotency_conflict"


def test_only_yuan_is_collected(fake, adapter):
    with pytest.raises(AdapterError) as caught:
        adapter.collect(collection("10.00", currency="USD"))
    assert caught.value.code == "currency_not_supported"
    assert fake.calls() == []


def test_a_timeout_is_unknown_and_a_query_then_finds_the_trade(fake, adapter):
    request = collection("66.00")
    fake.stall(1, seconds=3)

    started = time.monotonic()
    with pytest.raises(GatewayTimeout) as caught:
        adapter.collect(request)
    assert time.monotonic() - started < 2.5  # the adapter's 0.5 s, not the gateway's 3 s
    assert caught.value.status == AttemptStatus.UNKNOWN

    found = adapter.query(request.idempotency_key)
    assert found.status == AttemptStatus.PENDING
    assert found.provider_reference == request.idempotency_key

    fake.pay(request.idempotency_key)
    settled = adapter.query(request.idempotency_key)
    assert settled.status == AttemptStatus.SUCCEEDED
    assert settled.amount == money("66.00", "CNY")
    assert settled.provider_reference == fake.trade(request.idempotency_key).trade_no


def test_no_gateway_at_all_is_a_timeout(settings):
    with FakeAlipay() as gone:
        options = gone.adapter_options()
    adapter = AlipayAdapter(**options)  # the port is closed now
    with pytest.raises(GatewayTimeout):
        adapter.query("ALI-NOBODY-HOME")


def test_alipay_saying_the_result_is_unknown_is_a_timeout(fake, adapter):
    request = collection()
    fake.fail_next(code="20000", sub_code="ACQ.SYSTEM_ERROR")
    with pytest.raises(GatewayTimeout):
        adapter.collect(request)
    assert adapter.collect(request).status == AttemptStatus.PENDING


def test_another_business_error_is_an_adapter_error_with_a_stable_code(fake, adapter):
    fake.fail_next(code="40004", sub_code="ACQ.ACCESS_FORBIDDEN", sub_msg="无权限使用接口")
    with pytest.raises(AdapterError) as caught:
        adapter.collect(collection())
    assert caught.value.code == "alipay_rejected"
    assert "ACQ.ACCESS_FORBIDDEN" in caught.value.detail


def test_page_product_answers_a_cashier_url(fake, settings):
    fake.install(settings, product="page", return_url="https://fees.example.com/paid/")
    adapter = get_adapter("alipay")
    request = collection("20.00")

    result = adapter.collect(request)
    assert result.status == AttemptStatus.PENDING
    assert result.action.kind == ActionKind.PAY_URL
    url = result.action.value
    assert url.startswith(fake.url + "?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["method"] == "alipay.trade.page.pay"
    assert params["return_url"] == "https://fees.example.com/paid/"
    assert fake.trade(request.idempotency_key) is None  # nothing until the customer opens it

    status, html = fake.open_page(url)
    assert status == 200 and "错误" not in html
    assert fake.calls("alipay.trade.page.pay")[0].signature_ok
    fake.pay(request.idempotency_key)

    done = adapter.collect(request)
    assert done.status == AttemptStatus.SUCCEEDED
    assert done.amount == money("20.00", "CNY")
    assert done.provider_reference == fake.trade(request.idempotency_key).trade_no


# --- queries --------------------------------------------------------------------------


def test_query_for_an_unknown_trade_is_declined_not_found(adapter):
    result = adapter.query("ALI-NEVER-SEEN")
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "not_found"
    assert result.provider_reference is None
    assert result.raw["response"]["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_query_follows_the_trade(fake, adapter):
    request = collection("30.00")
    adapter.collect(request)
    key = request.idempotency_key

    assert adapter.query(key).provider_reference == key
    trade = fake.scan(key)  # scanned, not yet confirmed: WAIT_BUYER_PAY with a trade_no
    waiting = adapter.query(key)
    assert waiting.status == AttemptStatus.PENDING
    assert waiting.provider_reference == trade.trade_no
    assert waiting.amount is None

    fake.pay(key)
    assert adapter.query(key, trade.trade_no).status == AttemptStatus.SUCCEEDED
    fake.finish(key)
    finished = adapter.query(key, key)
    assert finished.status == AttemptStatus.SUCCEEDED
    assert finished.amount == money("30.00", "CNY")
    with pytest.raises(AdapterError):
        adapter.query(key, "2024010122001999999999999999")


def test_a_trade_closed_unpaid_is_declined(fake, adapter):
    request = collection()
    adapter.collect(request)
    fake.close_trade(request.idempotency_key)

    result = adapter.query(request.idempotency_key)
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "trade_closed"
    again = adapter.collect(request)  # precreate says ACQ.TRADE_HAS_CLOSE
    assert again.status == AttemptStatus.DECLINED and again.error_code == "trade_closed"


def test_a_trade_closed_by_a_full_refund_still_was_paid(fake, adapter):
    request, result = paid(fake, adapter, "50.00")
    adapter.refund(refund_of(result, "50.00"))
    assert fake.trade(request.idempotency_key).status == "TRADE_CLOSED"

    after = adapter.query(request.idempotency_key)
    assert after.status == AttemptStatus.SUCCEEDED
    assert after.amount == money("50.00", "CNY")
    assert after.provider_reference == result.provider_reference


# --- refunds --------------------------------------------------------------------------


def test_the_same_refund_key_is_the_same_refund(fake, adapter):
    request, result = paid(fake, adapter, "100.00")

    first = adapter.refund(refund_of(result, "60.00", key="RFD-SAME"))
    again = adapter.refund(refund_of(result, "60.00", key="RFD-SAME"))

    assert first.status == again.status == AttemptStatus.SUCCEEDED
    assert first.provider_reference == again.provider_reference == "RFD-SAME"
    assert first.amount == again.amount == money("60.00", "CNY")
    assert fake.trade(request.idempotency_key).refunded == Decimal("60.00")
    # The repeat moved no money; the adapter confirmed the refund before reporting it.
    assert thaw(again.raw)["confirmation"]["response"]["refund_status"] == "REFUND_SUCCESS"
    sent = fake.calls("alipay.trade.refund")[0].biz_content
    assert sent == {
        "trade_no": result.provider_reference,
        "refund_amount": "60.00",
        "out_request_no": "RFD-SAME",
        "refund_reason": "overcharged",
    }


def test_a_refund_never_exceeds_what_is_left(fake, adapter):
    _request, result = paid(fake, adapter, "100.00")
    assert adapter.refund(refund_of(result, "70.00", key="RFD-AAA")).status == "succeeded"

    over = adapter.refund(refund_of(result, "30.01", key="RFD-BBB"))
    assert over.status == AttemptStatus.DECLINED
    assert over.error_code == "refund_exceeds_available"
    assert over.amount is None
    # A declined refund leaves its key free: the same key for what is left succeeds.
    assert adapter.refund(refund_of(result, "30.00", key="RFD-BBB")).status == "succeeded"


def test_refund_declines(fake, adapter):
    unknown = adapter.refund(
        RefundRequest(
            idempotency_key="RFD-UNKNOWN",
            amount=money("1.00", "CNY"),
            provider_reference="2024010122001000000000000000",
        )
    )
    assert (unknown.status, unknown.error_code) == (AttemptStatus.DECLINED, "unknown_payment")

    waiting = collection()
    adapter.collect(waiting)
    trade = fake.scan(waiting.idempotency_key)
    unpaid = adapter.refund(
        RefundRequest(
            idempotency_key="RFD-UNPAID",
            amount=money("1.00", "CNY"),
            provider_reference=trade.trade_no,
        )
    )
    assert unpaid.error_code == "payment_not_refundable"

    request, result = paid(fake, adapter)
    fake.finish(request.idempotency_key)
    assert adapter.refund(refund_of(result, "1.00")).error_code == "payment_not_refundable"

    calls = len(fake.calls())
    foreign = adapter.refund(refund_of(result, "1.00", key="RFD-USD1", currency="USD"))
    assert foreign.error_code == "currency_mismatch"
    assert len(fake.calls()) == calls


def test_a_refund_error_alipay_does_not_explain_is_an_adapter_error(fake, adapter):
    _request, result = paid(fake, adapter)
    fake.fail_next(code="40004", sub_code="ACQ.SELLER_BALANCE_NOT_ENOUGH", sub_msg="余额不足")
    with pytest.raises(AdapterError) as caught:
        adapter.refund(refund_of(result, "1.00"))
    assert caught.value.code == "alipay_rejected"
    assert "ACQ.SELLER_BALANCE_NOT_ENOUGH" in caught.value.detail


# --- notifications --------------------------------------------------------------------


def test_a_signed_notification_parses(fake, adapter):
    request, result = paid(fake, adapter, "42.00")
    headers, body = fake.notification_for(request.idempotency_key)

    notification = adapter.parse_notification(headers, body)

    assert notification == Notification(
        provider_reference=result.provider_reference,
        idempotency_key=request.idempotency_key,
        status=AttemptStatus.SUCCEEDED,
        amount=money("42.00", "CNY"),
        raw=notification.raw,
    )
    assert notification.ack_body == b"success" and notification.ack_status == 200
    assert notification.amount.amount == Decimal("42.00")
    raw = thaw(notification.raw)
    assert "sign" not in raw and "sign_type" not in raw
    assert raw["trade_status"] == "TRADE_SUCCESS"


def test_a_repeated_notification_parses_the_same(fake, adapter):
    request, _ = paid(fake, adapter, "42.00")
    headers, body = fake.notification_for(request.idempotency_key)
    assert fake.notification_for(request.idempotency_key) == (headers, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        parsed = list(pool.map(lambda _: adapter.parse_notification(headers, body), range(16)))
    assert all(each == parsed[0] for each in parsed)


def test_an_exact_amount_and_any_text_survive_signing(fake, adapter):
    request, _ = paid(fake, adapter, "0.10")
    body = fake.notification_for(request.idempotency_key, subject="物业费 a&b=c+d %")[1]
    notification = adapter.parse_notification({}, body)
    assert notification.amount.amount == Decimal("0.10")
    assert str(notification.amount.amount) == "0.10"
    assert notification.raw["subject"] == "物业费 a&b=c+d %"


def test_empty_fields_are_left_out_of_the_signed_text(fake, adapter):
    request, _ = paid(fake, adapter)
    headers, body = fake.notification_for(request.idempotency_key, passback_params="")
    assert b"passback_params=&" in body or body.endswith(b"passback_params=")
    assert adapter.parse_notification(headers, body).status == AttemptStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("WAIT_BUYER_PAY", AttemptStatus.PENDING),
        ("TRADE_SUCCESS", AttemptStatus.SUCCEEDED),
        ("TRADE_FINISHED", AttemptStatus.SUCCEEDED),
        ("TRADE_CLOSED", AttemptStatus.DECLINED),
    ],
)
def test_trade_status_in_a_notification(fake, adapter, status, expected):
    request = collection()
    adapter.collect(request)
    if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        fake.pay(request.idempotency_key)
    if status == "TRADE_FINISHED":
        fake.finish(request.idempotency_key)
    if status == "TRADE_CLOSED":
        fake.close_trade(request.idempotency_key)

    headers, body = fake.notification_for(request.idempotency_key)
    assert dict(parse_qsl(body.decode()))["trade_status"] == status
    assert adapter.parse_notification(headers, body).status == expected


def test_the_notification_of_a_full_refund_does_not_undo_the_payment(fake, adapter):
    request, result = paid(fake, adapter, "42.00")
    adapter.refund(refund_of(result, "42.00"))
    headers, body = fake.notification_for(request.idempotency_key)
    assert dict(parse_qsl(body.decode()))["trade_status"] == "TRADE_CLOSED"

    notification = adapter.parse_notification(headers, body)
    assert notification.status == AttemptStatus.SUCCEEDED
    assert notification.provider_reference == result.provider_reference


def test_an_amount_changed_after_signing_is_rejected(fake, adapter):
    request, _ = paid(fake, adapter, "42.00")
    headers, body = fake.notification_for(
        request.idempotency_key, after_signing={"total_amount": "0.01"}
    )
    assert rejection(adapter, headers, body).reason == "bad_signature"


@pytest.mark.parametrize(
    "tampering",
    [
        pytest.param({"signed_with": INTRUDER.private_pem}, id="another-key"),
        pytest.param({"after_signing": {"sign": None}}, id="no-sign"),
        pytest.param({"after_signing": {"sign": ""}}, id="empty-sign"),
        pytest.param({"after_signing": {"sign": "bm90IGEgc2lnbmF0dXJl"}}, id="garbage-sign"),
        pytest.param({"after_signing": {"sign_type": "RSA"}}, id="sign-type"),
        pytest.param({"after_signing": {"trade_status": "TRADE_SUCCESS"}}, id="status"),
        pytest.param({"after_signing": {"extra_field": "x"}}, id="added-field"),
    ],
)
def test_a_notification_without_alipays_signature_is_rejected(fake, adapter, tampering):
    request = collection()
    adapter.collect(request)
    fake.close_trade(request.idempotency_key)
    headers, body = fake.notification_for(request.idempotency_key, **tampering)
    assert rejection(adapter, headers, body).reason == "bad_signature"


@pytest.mark.parametrize(
    "override",
    [{"app_id": "2021000000009999"}, {"seller_id": "2088000000009999"}, {"seller_id": None}],
)
def test_a_notification_for_another_merchant_is_rejected(fake, adapter, override):
    request, _ = paid(fake, adapter)
    headers, body = fake.notification_for(request.idempotency_key, **override)
    assert rejection(adapter, headers, body).reason == "wrong_app_id"


@pytest.mark.parametrize(
    ("age", "accepted"),
    [
        (dt.timedelta(hours=26), False),
        (dt.timedelta(hours=24), True),
        (dt.timedelta(0), True),
        (-dt.timedelta(minutes=4), True),
        (-dt.timedelta(minutes=6), False),
    ],
)
def test_notify_time_window(fake, adapter, age, accepted):
    request, _ = paid(fake, adapter)
    headers, body = fake.notification_for(request.idempotency_key, notify_time=beijing(-age))
    if accepted:
        assert adapter.parse_notification(headers, body).status == AttemptStatus.SUCCEEDED
    else:
        assert rejection(adapter, headers, body).reason == "stale_timestamp"


def test_notify_max_age_is_an_option(fake, settings):
    fake.install(settings, notify_max_age=3600)
    adapter = get_adapter("alipay")
    request, _ = paid(fake, adapter)
    headers, body = fake.notification_for(
        request.idempotency_key, notify_time=beijing(-dt.timedelta(hours=2))
    )
    assert rejection(adapter, headers, body).reason == "stale_timestamp"


@pytest.mark.parametrize(
    "override",
    [
        {"total_amount": "42.001"},
        {"total_amount": "4.2e1"},
        {"total_amount": "-42.00"},
        {"total_amount": "42,00"},
        {"total_amount": None},
        {"notify_time": "2024/03/01 12:00"},
        {"out_trade_no": None},
        {"trade_no": None},
        {"trade_status": "TRADE_PENDING"},
    ],
)
def test_a_malformed_notification_is_rejected(fake, adapter, override):
    request, _ = paid(fake, adapter)
    headers, body = fake.notification_for(request.idempotency_key, **override)
    assert rejection(adapter, headers, body).reason == "malformed"


def test_a_body_that_is_not_one_form_is_malformed(fake, adapter):
    request, _ = paid(fake, adapter)
    headers, body = fake.notification_for(request.idempotency_key)
    assert rejection(adapter, headers, b"\xff\xfe" + body).reason == "malformed"
    repeated = body + b"&total_amount=0.01"  # which total_amount was signed?
    assert rejection(adapter, headers, repeated).reason == "malformed"
