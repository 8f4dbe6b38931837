"""The contract every payment adapter keeps (docs/collection.md).

One suite, parametrised over every adapter in ``settings.PAYMENT_ADAPTERS``. Each
adapter has a harness here that knows how to drive its gateway (the sandbox's memory,
a local fake HTTP gateway for the real protocols); an adapter registered without a
harness fails the suite, so a new adapter cannot skip the contract.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from feemgmt.core.money import Money, money
from payments.adapters import (
    AttemptStatus,
    CollectionRequest,
    CollectionResult,
    Notification,
    RefundRequest,
    RefundResult,
    get_adapter,
)
from payments.adapters.bank_transfer import SimulatedBank, remittance_reference
from payments.adapters.base import thaw
from payments.adapters.sandbox import GATEWAY, sandbox_notification

_keys = itertools.count(1)


def new_key(prefix: str = "K") -> str:
    return f"{prefix}{next(_keys):06d}"


class SandboxHarness:
    """Drives the in-memory sandbox gateway."""

    def __init__(self, name: str, settings=None):
        self.name = name

    def succeeding_request(self, amount: str = "100.00") -> CollectionRequest:
        return CollectionRequest(
            idempotency_key=new_key(),
            amount=money(amount, "CNY"),
            reference="CHG-0001",
            description="Client management fee, March",
            customer_ref="CUST-1",
            notify_url="https://example.com/notify/sandbox",
            metadata={"sandbox_outcome": "success", "bank_account": "6222021234567890123"},
        )

    def debits(self, idempotency_key: str) -> int:
        return len(GATEWAY.debits(idempotency_key))

    def notification(self, idempotency_key: str) -> tuple[dict[str, str], bytes]:
        return sandbox_notification(idempotency_key, adapter=self.name)

    def secrets(self) -> list[str]:
        return [str(settings.PAYMENT_ADAPTERS[self.name]["options"]["secret"])]


class BankTransferHarness:
    """Plays the bank for the bank transfer adapter, which has no gateway of its own.

    A bank transfer never succeeds on ``collect`` and its refund is a manual transfer;
    the suite's rules assume a gateway that settles and refunds. So the harness gives
    this process's adapter a :class:`SimulatedBank` link (the registry's cache is
    rebuilt after each test by conftest) and a "succeeding request" is one whose
    customer pays at once and whose statement line reconciliation matches. The rules
    are unchanged; without a link the adapter says PENDING and
    "manual_refund_required" (test_bank_transfer.py).
    """

    def __init__(self, name: str, settings=None):
        self.name = name
        self.bank = SimulatedBank()
        get_adapter(name).link = self.bank

    def succeeding_request(self, amount: str = "100.00") -> CollectionRequest:
        request = CollectionRequest(
            idempotency_key=new_key(),
            amount=money(amount, "CNY"),
            reference="CHG-0001",
            description="Client management fee, March",
            customer_ref="CUST-1",
            metadata={"bank_account": "6222021234567890123"},
        )
        self.bank.expect_payment(remittance_reference(request.idempotency_key))
        return request

    def debits(self, idempotency_key: str) -> int:
        notice = self.bank.notice(remittance_reference(idempotency_key))
        return len(notice.credits) if notice else 0

    def notification(self, idempotency_key: str) -> tuple[dict[str, str], bytes]:
        raise AssertionError("a bank transfer has no notifications")

    def secrets(self) -> list[str]:
        # Nothing secret; the payee account number is kept only masked.
        return [str(get_adapter(self.name).account_number)]


# Adapter class → its harness (a dotted path, so each adapter's harness lives beside
# its fake gateway). A harness is built as ``Harness(name, settings)`` with
# pytest-django's ``settings`` fixture, and may define ``close()``.
HARNESSES = {
    "payments.adapters.sandbox.SandboxAdapter": f"{__name__}.SandboxHarness",
    "payments.adapters.bank_transfer.BankTransferAdapter": f"{__name__}.BankTransferHarness",
    "payments.adapters.alipay.AlipayAdapter": "payments.tests.fakes.alipay.AlipayHarness",
    "payments.adapters.wechat_pay.WechatPayAdapter": (
        "payments.tests.fakes.wechat_pay.WechatPayHarness"
    ),
    "payments.adapters.auto_debit.AutoDebitAdapter": (
        "payments.tests.fakes.auto_debit.AutoDebitHarness"
    ),
}

# Adapters for real gateways that settings leave sandbox-backed until keys are
# configured: the suite runs them too, each harness pointing the adapter at a local
# fake gateway that speaks the real wire format.
REAL_GATEWAY_ADAPTERS = {
    "alipay": "payments.adapters.alipay.AlipayAdapter",
    "wechat_pay": "payments.adapters.wechat_pay.WechatPayAdapter",
}


def _suite() -> list[tuple[str, str]]:
    configured = [(name, entry["class"]) for name, entry in settings.PAYMENT_ADAPTERS.items()]
    extra = [pair for pair in REAL_GATEWAY_ADAPTERS.items() if pair not in configured]
    return configured + extra


@pytest.fixture(params=_suite(), ids=lambda pair: f"{pair[0]}:{pair[1].rsplit('.', 1)[-1]}")
def harness(request, settings):
    name, path = request.param
    if path not in HARNESSES:
        pytest.fail(f"adapter {name!r} ({path}) has no contract harness in {__name__}")
    harness = import_string(HARNESSES[path])(name, settings)
    yield harness
    close = getattr(harness, "close", None)
    if close is not None:
        close()


@pytest.fixture
def adapter(harness):
    return get_adapter(harness.name)


def pay(harness, adapter, request: CollectionRequest) -> CollectionResult:
    """Collect, with the payer doing their part where the method needs one.

    A QR code or pay link is PENDING until the customer pays; such a harness defines
    ``pay(adapter, request)``: it collects, pays in the fake gateway as the customer
    would, and returns what collecting again with the same key answers.
    """
    custom = getattr(harness, "pay", None)
    return custom(adapter, request) if custom else adapter.collect(request)


def test_every_payment_method_adapter_names_a_known_method(harness):
    assert harness.name in settings.PAYMENT_METHODS
    assert get_adapter(harness.name).name == harness.name


def test_the_same_idempotency_key_debits_once(harness, adapter):
    request = harness.succeeding_request()
    first = pay(harness, adapter, request)
    again = adapter.collect(request)

    assert first.status == again.status == AttemptStatus.SUCCEEDED
    assert again.provider_reference == first.provider_reference
    assert harness.debits(request.idempotency_key) == 1


def test_a_new_key_is_a_new_payment(harness, adapter):
    one, two = harness.succeeding_request(), harness.succeeding_request()
    assert (
        pay(harness, adapter, one).provider_reference
        != pay(harness, adapter, two).provider_reference
    )
    assert harness.debits(one.idempotency_key) == harness.debits(two.idempotency_key) == 1


def test_query_after_collect_agrees(harness, adapter):
    request = harness.succeeding_request("88.00")
    collected = pay(harness, adapter, request)
    queried = adapter.query(request.idempotency_key)
    by_reference = adapter.query(request.idempotency_key, collected.provider_reference)

    for result in (queried, by_reference):
        assert result.status == collected.status == AttemptStatus.SUCCEEDED
        assert result.provider_reference == collected.provider_reference
        assert result.amount == money("88.00", "CNY")


def test_query_for_a_key_the_gateway_never_saw_is_declined_not_found(adapter):
    result = adapter.query(new_key("NEVER"))
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "not_found"
    assert result.provider_reference is None


def test_refunds_never_exceed_what_was_collected(harness, adapter):
    collected = pay(harness, adapter, harness.succeeding_request("100.00"))

    def refund(amount, key=None):
        return adapter.refund(
            RefundRequest(
                idempotency_key=key or new_key("R"),
                amount=money(amount, "CNY"),
                provider_reference=collected.provider_reference,
                reason="overcharge",
            )
        )

    too_much = refund("100.01")
    assert too_much.status == AttemptStatus.DECLINED
    assert too_much.error_code == "refund_exceeds_available"

    first = refund("60.00", key="RFD-FIRST")
    assert first.status == AttemptStatus.SUCCEEDED and first.amount == money("60.00", "CNY")
    # The same refund key again is the same refund, not a second one.
    assert refund("60.00", key="RFD-FIRST").provider_reference == first.provider_reference

    over = refund("40.01")
    assert over.status == AttemptStatus.DECLINED
    assert over.error_code == "refund_exceeds_available"
    assert refund("40.00").status == AttemptStatus.SUCCEEDED
    assert refund("0.01").error_code == "refund_exceeds_available"


def test_a_refund_of_an_unknown_payment_is_declined(adapter):
    result = adapter.refund(
        RefundRequest(
            idempotency_key=new_key("R"),
            amount=money("1.00", "CNY"),
            provider_reference="NO-SUCH-PAYMENT",
        )
    )
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "unknown_payment"


def test_a_notification_parses_back_to_the_payment(harness, adapter):
    if not adapter.supports_notifications:
        pytest.skip(f"{harness.name} receives no notifications")
    request = harness.succeeding_request("42.00")
    collected = pay(harness, adapter, request)
    headers, body = harness.notification(request.idempotency_key)

    notification = adapter.parse_notification(headers, body)

    assert isinstance(notification, Notification)
    assert notification.idempotency_key == request.idempotency_key
    assert notification.provider_reference == collected.provider_reference
    assert notification.status == AttemptStatus.SUCCEEDED
    assert notification.amount == money("42.00", "CNY")
    assert isinstance(notification.ack_body, bytes) and notification.ack_status == 200
    notification.verify_amount(money("42.00", "CNY"))


def test_result_dataclasses_are_frozen(harness, adapter):
    request = harness.succeeding_request()
    result = pay(harness, adapter, request)
    refund = adapter.refund(
        RefundRequest(
            idempotency_key=new_key("R"),
            amount=money("1.00", "CNY"),
            provider_reference=result.provider_reference,
        )
    )
    for value in (request, result, refund):
        assert dataclasses.is_dataclass(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.status = AttemptStatus.DECLINED  # type: ignore[misc]
    for payload in (result.raw, refund.raw, request.metadata):
        with pytest.raises(TypeError):
            payload["tampered"] = "yes"  # type: ignore[index]
    assert isinstance(result, CollectionResult) and isinstance(refund, RefundResult)
    assert isinstance(result.amount, Money)


def test_raw_payloads_hold_no_secret_and_no_full_account_number(harness, adapter):
    request = harness.succeeding_request()
    results = [pay(harness, adapter, request), adapter.query(request.idempotency_key)]
    results.append(
        adapter.refund(
            RefundRequest(
                idempotency_key=new_key("R"),
                amount=money("1.00", "CNY"),
                provider_reference=results[0].provider_reference,
            )
        )
    )
    if adapter.supports_notifications:
        results.append(adapter.parse_notification(*harness.notification(request.idempotency_key)))

    for result in results:
        text = repr(thaw(result.raw))
        assert result.raw, "the raw payload is kept (redacted), not dropped"
        for secret in harness.secrets():
            assert secret not in text
        assert "6222021234567890123" not in text
        assert "sign" not in {key.lower() for key in thaw(result.raw)}
    assert harness.secrets()[0] not in repr(adapter)
