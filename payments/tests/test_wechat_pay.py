"""The WeChat Pay API v3 adapter against the local fake gateway: signed requests,
verified answers, amounts in fen, Native QR payments, timeouts, refunds and the
checks on payment notifications."""

from __future__ import annotations

import json
import time

import pytest
import time_machine
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
from payments.adapters.base import thaw
from payments.adapters.wechat_pay import WechatPayAdapter, from_fen, to_fen
from payments.tests.fakes.wechat_pay import ADAPTER_CLASS, FakeWechatPay, key_pair

NOW = 1_800_000_000  # a whole second, so the replay window's edges are exact


@pytest.fixture
def fake():
    gateway = FakeWechatPay(adapter_timeout=0.5).start()
    yield gateway
    gateway.close()


def configure(settings, fake, **overrides):
    settings.PAYMENT_ADAPTERS = {
        "wechat_pay": {"class": ADAPTER_CLASS, "options": fake.adapter_options(**overrides)}
    }
    return get_adapter("wechat_pay")


@pytest.fixture
def adapter(settings, fake):
    return configure(settings, fake)


_keys = iter(range(1, 10**6))


def request(amount="100.00", *, key=None, currency="CNY"):
    return CollectionRequest(
        idempotency_key=key or f"WXT{next(_keys):06d}",
        amount=money(amount, currency),
        reference="CHG-0042",
        description="物业管理费 2026年3月",
        customer_ref="CUST-7",
        notify_url="https://fees.example.com/payments/notify/wechat_pay/",
    )


def paid(fake, adapter, amount="100.00"):
    """A request and the result of collecting it after the customer paid."""
    req = request(amount)
    pending = adapter.collect(req)
    fake.scan(pending.action.value)
    return req, adapter.collect(req)


def refund_request(result, amount, key=None, currency="CNY"):
    return RefundRequest(
        idempotency_key=key or f"RF{next(_keys):06d}",
        amount=money(amount, currency),
        provider_reference=result.provider_reference,
        reason="多收",
    )


# --- Configuration --------------------------------------------------------------------


def test_the_adapter_refuses_incomplete_or_broken_configuration(fake):
    options = fake.adapter_options()
    for missing in WechatPayAdapter.REQUIRED:
        with pytest.raises(ImproperlyConfigured, match=missing):
            WechatPayAdapter(**{**options, missing: ""})
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        WechatPayAdapter(**{**options, "apiv3_key": "short"})
    broken = options["private_key"].replace("A", "B", 40)
    with pytest.raises(ImproperlyConfigured) as caught:
        WechatPayAdapter(**{**options, "private_key": broken})
    assert broken[40:100] not in str(caught.value)


def test_repr_shows_no_key(adapter, fake):
    text = repr(adapter) + repr(adapter.client) + repr(adapter.reader)
    assert fake.apiv3_key not in text
    assert "PRIVATE KEY" not in text and "PUBLIC KEY" not in text


# --- Signatures on the wire ---------------------------------------------------------------


def test_requests_are_signed_and_the_gateway_checks_them(fake, adapter):
    req, result = paid(fake, adapter)
    adapter.query(req.idempotency_key)
    adapter.refund(refund_request(result, "1.00"))

    assert [r.path.split("?")[0] for r in fake.received] == [
        "/v3/pay/transactions/native",
        "/v3/pay/transactions/native",
        f"/v3/pay/transactions/out-trade-no/{req.idempotency_key}",
        f"/v3/pay/transactions/out-trade-no/{req.idempotency_key}",
        f"/v3/pay/transactions/id/{result.provider_reference}",
        "/v3/refund/domestic/refunds",
    ]
    assert all(r.authorized for r in fake.received)
    assert all(
        r.headers["authorization"].startswith("WECHATPAY2-SHA256-RSA2048 ") for r in fake.received
    )


@pytest.mark.parametrize(
    "override",
    [
        {"private_key": key_pair("stranger").private_pem},
        {"cert_serial_no": "0000000000000000000000000000000000000000"},
        {"mchid": "1900000000"},
    ],
    ids=["other-private-key", "other-certificate-serial", "other-mchid"],
)
def test_a_request_the_gateway_cannot_verify_is_refused(settings, fake, override):
    adapter = configure(settings, fake, **override)
    with pytest.raises(AdapterError) as caught:
        adapter.collect(request())
    assert "SIGN_ERROR" in caught.value.detail
    assert [r.authorized for r in fake.received] == [False]
    assert fake.orders() == []


def test_an_answer_signed_by_another_key_is_not_trusted(fake, adapter):
    req, _result = paid(fake, adapter)
    fake.response_key = key_pair("stranger").private
    with pytest.raises(AdapterError, match="signature"):
        adapter.query(req.idempotency_key)
    with pytest.raises(AdapterError, match="signature"):
        adapter.collect(request())


def test_an_answer_under_another_serial_is_not_trusted(fake, adapter):
    fake.response_serial = "PUB_KEY_ID_SOMEONE_ELSE"
    with pytest.raises(AdapterError, match="unknown key"):
        adapter.collect(request())


def test_an_answer_signed_by_the_platform_verifies_only_with_its_public_key(settings, fake):
    adapter = configure(settings, fake, public_key=key_pair("stranger").public_pem)
    with pytest.raises(AdapterError):
        adapter.query("WXNEVER001")


# --- Collecting ------------------------------------------------------------------------


def test_collect_places_a_native_order_and_answers_its_qr_code(fake, adapter):
    req = request("88.00")
    result = adapter.collect(req)

    order = fake.order(req.idempotency_key)
    assert result.status == AttemptStatus.PENDING
    assert result.action.kind == ActionKind.QR_CODE
    assert result.action.value == order.code_url
    assert result.provider_reference is None  # assigned when the customer pays
    sent = fake.received[-1].json()
    assert sent == {
        "appid": fake.appid,
        "mchid": fake.mchid,
        "description": "物业管理费 2026年3月",
        "out_trade_no": req.idempotency_key,
        "attach": "CHG-0042",
        "notify_url": "https://fees.example.com/payments/notify/wechat_pay/",
        "amount": {"total": 8800, "currency": "CNY"},
    }
    assert result.raw["response"]["code_url"] == order.code_url


@pytest.mark.parametrize(
    ("amount", "fen"),
    [("0.01", 1), ("0.10", 10), ("19.99", 1999), ("1234.56", 123456), ("99999.99", 9999999)],
)
def test_amounts_travel_in_fen_exactly(fake, adapter, amount, fen):
    req, result = paid(fake, adapter, amount)

    assert fake.order(req.idempotency_key).total == fen
    assert result.amount == money(amount, "CNY")
    assert str(result.amount.amount) == amount
    assert adapter.query(req.idempotency_key).amount == money(amount, "CNY")
    assert to_fen(money(amount, "CNY")) == fen and from_fen(fen) == money(amount, "CNY")


def test_only_cny_is_collected(fake, adapter):
    with pytest.raises(AdapterError, match="CNY"):
        adapter.collect(request("10.00", currency="USD"))
    assert fake.received == []


def test_collecting_again_before_payment_shows_the_same_qr_code(fake, adapter):
    req = request()
    first, again = adapter.collect(req), adapter.collect(req)

    assert again.status == AttemptStatus.PENDING
    assert again.action.value == first.action.value
    assert len(fake.orders()) == 1


def test_collecting_again_after_payment_finds_it_paid_without_a_second_order(fake, adapter):
    req = request("42.00")
    adapter.collect(req)
    transaction_id = fake.pay(req.idempotency_key)

    again = adapter.collect(req)

    assert again.status == AttemptStatus.SUCCEEDED
    assert again.provider_reference == transaction_id
    assert again.amount == money("42.00", "CNY")
    assert again.action is None
    assert len(fake.orders()) == 1 and fake.debits(req.idempotency_key) == 1


def test_collecting_a_closed_order_again_is_declined(fake, adapter):
    req = request()
    adapter.collect(req)
    fake.set_state(req.idempotency_key, "CLOSED")

    again = adapter.collect(req)

    assert again.status == AttemptStatus.DECLINED
    assert again.error_code == "order_closed"


def test_the_same_key_for_another_amount_is_an_idempotency_conflict(fake, adapter):
    adapter.collect(request("100.00", key="WXSAMEKEY1"))
    with pytest.raises(AdapterError) as caught:
        adapter.collect(request("200.00", key="WXSAMEKEY1"))
    assert caught.value.code == "idempotency_conflict"
    assert fake.order("WXSAMEKEY1").total == 10000


# --- Timeouts ------------------------------------------------------------------------


def test_a_timeout_is_unknown_and_a_query_then_finds_the_order(fake, adapter):
    req = request()
    fake.stall(1)
    started = time.monotonic()
    with pytest.raises(GatewayTimeout) as caught:
        adapter.collect(req)
    assert time.monotonic() - started < 1.4  # gave up at the timeout, not at the answer
    assert caught.value.code == "gateway_timeout"
    assert fake.order(req.idempotency_key) is not None  # the gateway got it

    assert adapter.query(req.idempotency_key).status == AttemptStatus.PENDING
    fake.pay(req.idempotency_key)
    found = adapter.query(req.idempotency_key)
    assert found.status == AttemptStatus.SUCCEEDED
    assert found.provider_reference == fake.order(req.idempotency_key).transaction_id


def test_an_unreachable_gateway_is_a_timeout(settings):
    with FakeWechatPay() as gone:
        options = gone.adapter_options()
    settings.PAYMENT_ADAPTERS = {"wechat_pay": {"class": ADAPTER_CLASS, "options": options}}
    with pytest.raises(GatewayTimeout):
        get_adapter("wechat_pay").query("WXNOWHERE1")


# --- Querying --------------------------------------------------------------------------


def test_a_key_the_gateway_never_saw_is_declined_not_found(fake, adapter):
    result = adapter.query("WXNEVERSEEN")
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "not_found"
    assert result.provider_reference is None
    assert (
        fake.received[-1].path
        == f"/v3/pay/transactions/out-trade-no/WXNEVERSEEN?mchid={fake.mchid}"
    )


@pytest.mark.parametrize(
    ("state", "status", "code"),
    [
        ("NOTPAY", AttemptStatus.PENDING, None),
        ("USERPAYING", AttemptStatus.PENDING, None),
        ("CLOSED", AttemptStatus.DECLINED, "order_closed"),
        ("PAYERROR", AttemptStatus.DECLINED, "card_declined"),
        ("REVOKED", AttemptStatus.DECLINED, "order_revoked"),
    ],
)
def test_query_maps_trade_states(fake, adapter, state, status, code):
    req = request()
    adapter.collect(req)
    fake.set_state(req.idempotency_key, state)

    result = adapter.query(req.idempotency_key)

    assert (result.status, result.error_code, result.amount) == (status, code, None)
    if code:
        assert result.error_message


def test_a_refunded_payment_still_queries_as_succeeded(fake, adapter):
    req, result = paid(fake, adapter)
    adapter.refund(refund_request(result, "10.00"))
    assert fake.order(req.idempotency_key).trade_state == "REFUND"

    again = adapter.query(req.idempotency_key, result.provider_reference)
    assert again.status == AttemptStatus.SUCCEEDED
    assert again.amount == money("100.00", "CNY")


def test_query_with_another_transaction_id_is_an_error(fake, adapter):
    req, _result = paid(fake, adapter)
    with pytest.raises(AdapterError):
        adapter.query(req.idempotency_key, "4200000000000000000000000000")


# --- Refunds -------------------------------------------------------------------------


def test_refunds_send_the_order_total_and_never_exceed_it(fake, adapter):
    req, result = paid(fake, adapter, "100.00")

    first = adapter.refund(refund_request(result, "60.00", key="RFWX0001"))
    assert first.status == AttemptStatus.SUCCEEDED
    assert first.amount == money("60.00", "CNY")
    assert fake.received[-1].json()["amount"] == {"refund": 6000, "total": 10000, "currency": "CNY"}
    assert fake.received[-1].json()["transaction_id"] == result.provider_reference
    assert fake.received[-1].json()["out_refund_no"] == "RFWX0001"

    same = adapter.refund(refund_request(result, "60.00", key="RFWX0001"))
    assert same.provider_reference == first.provider_reference
    assert len(fake.refunds()) == 1

    over = adapter.refund(refund_request(result, "40.01"))  # refused by the gateway
    assert (over.status, over.error_code) == (AttemptStatus.DECLINED, "refund_exceeds_available")
    assert adapter.refund(refund_request(result, "40.00")).status == AttemptStatus.SUCCEEDED
    fully = adapter.refund(refund_request(result, "0.01"))
    assert fully.error_code == "refund_exceeds_available"
    assert fake.order(req.idempotency_key).refunded == 10000


def test_a_refund_above_the_total_is_declined_without_asking(fake, adapter):
    _req, result = paid(fake, adapter, "100.00")
    sent = len(fake.received)

    too_much = adapter.refund(refund_request(result, "100.01"))

    assert too_much.error_code == "refund_exceeds_available"
    assert [r.path.split("?")[0] for r in fake.received[sent:]] == [
        f"/v3/pay/transactions/id/{result.provider_reference}"
    ]


def test_refund_declines(fake, adapter):
    unknown = adapter.refund(
        RefundRequest(
            idempotency_key="RFUNKNOWN1",
            amount=money("1.00", "CNY"),
            provider_reference="NO-SUCH-PAYMENT",
        )
    )
    assert (unknown.status, unknown.error_code) == (AttemptStatus.DECLINED, "unknown_payment")
    assert unknown.provider_reference is None

    req = request()
    adapter.collect(req)
    fake.set_state(req.idempotency_key, "PAYERROR")
    failed = fake.order(req.idempotency_key).transaction_id
    not_paid = adapter.refund(
        RefundRequest(
            idempotency_key="RFUNPAID01", amount=money("1.00", "CNY"), provider_reference=failed
        )
    )
    assert not_paid.error_code == "payment_not_refundable"

    _req, result = paid(fake, adapter)
    dollars = adapter.refund(refund_request(result, "1.00", currency="USD"))
    assert dollars.error_code == "currency_mismatch"
    assert fake.refunds() == []


def test_a_refund_timeout_then_the_same_key_is_the_same_refund(fake, adapter):
    _req, result = paid(fake, adapter)
    fake.stall(1, path="/v3/refund/")
    with pytest.raises(GatewayTimeout):
        adapter.refund(refund_request(result, "5.00", key="RFSTALL01"))
    assert len(fake.refunds()) == 1  # the gateway made it

    again = adapter.refund(refund_request(result, "5.00", key="RFSTALL01"))
    assert again.status == AttemptStatus.SUCCEEDED
    assert again.provider_reference == fake.refunds()[0].refund_id
    assert fake.order(_req.idempotency_key).refunded == 500


def test_kept_payloads_hold_no_secret(fake, adapter):
    req, result = paid(fake, adapter)
    refund = adapter.refund(refund_request(result, "1.00"))
    note = adapter.parse_notification(*fake.notification_for(req.idempotency_key))

    for kept in (result.raw, adapter.query(req.idempotency_key).raw, refund.raw, note.raw):
        text = json.dumps(thaw(kept), ensure_ascii=False)
        assert fake.apiv3_key not in text
        assert "PRIVATE KEY" not in text and "ciphertext" not in text
        assert "signature" not in text.lower()


# --- Notifications -------------------------------------------------------------------------


@pytest.fixture
def paid_order(fake, adapter):
    req, result = paid(fake, adapter, "42.00")
    return req.idempotency_key, result


def reject_reason(adapter, headers, body) -> NotificationRejected:
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(headers, body)
    rejected = caught.value
    assert json.loads(rejected.ack_body)["code"] == "FAIL"
    assert rejected.ack_status in (400, 401)
    return rejected


def test_a_notification_parses_to_the_payment(fake, adapter, paid_order):
    key, result = paid_order
    headers, body = fake.notification_for(key)

    note = adapter.parse_notification(headers, body)

    assert isinstance(note, Notification)
    assert note.idempotency_key == key
    assert note.provider_reference == result.provider_reference
    assert note.status == AttemptStatus.SUCCEEDED
    assert note.amount == money("42.00", "CNY")
    assert note.ack_status == 200
    assert json.loads(note.ack_body) == {"code": "SUCCESS", "message": "成功"}
    assert note.raw["transaction"]["trade_state"] == "SUCCESS"
    assert note.raw["event_type"] == "TRANSACTION.SUCCESS"


def test_header_names_are_matched_in_any_case(fake, adapter, paid_order):
    headers, body = fake.notification_for(paid_order[0])
    expected = adapter.parse_notification(headers, body)

    lower = {k.lower(): v for k, v in headers.items()}
    upper = {k.upper(): v for k, v in headers.items()}
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    for variant in (lower, upper, meta):
        assert adapter.parse_notification(variant, body) == expected


def test_the_same_notification_twice_parses_the_same(fake, adapter, paid_order):
    headers, body = fake.notification_for(paid_order[0])
    assert adapter.parse_notification(headers, body) == adapter.parse_notification(headers, body)


def test_a_tampered_body_is_rejected(fake, adapter, paid_order):
    rejected = reject_reason(adapter, *fake.notification_for(paid_order[0], tamper_body=True))
    assert rejected.reason == "bad_signature" and rejected.ack_status == 401


def test_a_notification_signed_by_another_key_is_rejected(fake, adapter, paid_order):
    headers, body = fake.notification_for(paid_order[0], signing_key=key_pair("stranger").private)
    assert reject_reason(adapter, headers, body).reason == "bad_signature"


def test_a_notification_under_another_serial_is_rejected(fake, adapter, paid_order):
    headers, body = fake.notification_for(paid_order[0], serial="PUB_KEY_ID_OTHER")
    assert reject_reason(adapter, headers, body).reason == "bad_signature"


def test_a_notification_without_signature_headers_is_rejected(fake, adapter, paid_order):
    headers, body = fake.notification_for(paid_order[0])
    del headers["Wechatpay-Signature"]
    assert reject_reason(adapter, headers, body).reason == "bad_signature"


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_notification_outside_five_minutes_is_stale(fake, adapter, paid_order, offset):
    with time_machine.travel(NOW, tick=False):
        headers, body = fake.notification_for(paid_order[0], timestamp=NOW + offset)
        assert reject_reason(adapter, headers, body).reason == "stale_timestamp"


@pytest.mark.parametrize("offset", [-300, -299, 0, 299, 300])
def test_a_notification_within_five_minutes_is_accepted(fake, adapter, paid_order, offset):
    with time_machine.travel(NOW, tick=False):
        headers, body = fake.notification_for(paid_order[0], timestamp=NOW + offset)
        assert adapter.parse_notification(headers, body).status == AttemptStatus.SUCCEEDED


def test_a_tampered_ciphertext_is_rejected(fake, adapter, paid_order):
    headers, body = fake.notification_for(paid_order[0], tamper_ciphertext=True)
    rejected = reject_reason(adapter, headers, body)
    assert rejected.reason == "bad_signature"
    assert "decrypt" in rejected.detail


def test_a_resource_sealed_with_another_apiv3_key_is_rejected(fake, adapter, paid_order):
    headers, body = fake.notification_for(paid_order[0], apiv3_key="0" * 32)
    assert reject_reason(adapter, headers, body).reason == "bad_signature"


@pytest.mark.parametrize("field", ["mchid", "appid"])
def test_a_notification_for_another_merchant_or_app_is_rejected(fake, adapter, paid_order, field):
    headers, body = fake.notification_for(paid_order[0], **{field: "someone-else"})
    rejected = reject_reason(adapter, headers, body)
    assert rejected.reason == "wrong_app_id" and rejected.ack_status == 400


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("CLOSED", AttemptStatus.DECLINED),
        ("PAYERROR", AttemptStatus.DECLINED),
        ("REVOKED", AttemptStatus.DECLINED),
        ("NOTPAY", AttemptStatus.PENDING),
        ("USERPAYING", AttemptStatus.PENDING),
        ("REFUND", AttemptStatus.SUCCEEDED),
    ],
)
def test_notification_states_map_as_queries_do(fake, adapter, paid_order, state, status):
    note = adapter.parse_notification(*fake.notification_for(paid_order[0], trade_state=state))
    assert note.status == status
    assert note.amount == money("42.00", "CNY")


def test_an_unpaid_order_notification_has_no_provider_reference(fake, adapter):
    req = request("12.00")
    adapter.collect(req)
    fake.set_state(req.idempotency_key, "CLOSED")

    note = adapter.parse_notification(*fake.notification_for(req.idempotency_key))

    assert (note.status, note.provider_reference) == (AttemptStatus.DECLINED, "")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        json.dumps({"resource": {"algorithm": "AES_128_CBC", "ciphertext": "", "nonce": ""}}),
        json.dumps({"resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext": 1, "nonce": 2}}),
    ],
    ids=["not-json", "no-resource", "other-algorithm", "not-strings"],
)
def test_a_signed_but_unreadable_notification_is_malformed(fake, adapter, body):
    body = body.encode() if isinstance(body, str) else body
    headers = fake.signature_headers(body)
    assert reject_reason(adapter, headers, body).reason == "malformed"


def test_a_paid_notification_without_amount_or_transaction_id_is_malformed(
    fake, adapter, paid_order
):
    for override in ({"amount": {"currency": "CNY"}}, {"transaction_id": ""}):
        headers, body = fake.notification_for(paid_order[0], **override)
        assert reject_reason(adapter, headers, body).reason == "malformed"
