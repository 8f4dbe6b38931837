"""The auto_debit adapter: mandates checked at collect, PENDING until the bank's files,
manual refunds, and the simulated debtor bank used as a link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from feemgmt.core.money import money
from payments.adapters import (
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    NotificationRejected,
    RefundRequest,
    get_adapter,
)
from payments.adapters.auto_debit import (
    AutoDebitAdapter,
    SimulatedDebitBank,
    auto_debit_error_text,
    build_pain008,
    debit_from_metadata,
    read_camt054,
    read_pain008,
)
from payments.adapters.base import thaw
from payments.tests.fakes.auto_debit import DEBTOR_IBAN, camt054_for, mandate_metadata

CREDITOR_OPTIONS = {
    "creditor_name": "示例物业管理有限公司",
    "creditor_iban": "DE87200500001234567890",
    "creditor_bic": "BANKDEFFXXX",
    "creditor_id": "DE98ZZZ09999999999",
}


@pytest.fixture
def auto_debit(settings):
    settings.PAYMENT_ADAPTERS = {
        **settings.PAYMENT_ADAPTERS,
        "auto_debit": {
            "class": "payments.adapters.auto_debit.AutoDebitAdapter",
            "options": dict(CREDITOR_OPTIONS, link=""),
        },
    }
    adapter = get_adapter("auto_debit")
    assert adapter.link is None
    return adapter


@pytest.fixture
def bank(auto_debit):
    auto_debit.link = SimulatedDebitBank()
    return auto_debit.link


def request_for(
    key: str = "CHG000042-A1", amount: str = "128.50", currency: str = "EUR", **metadata
) -> CollectionRequest:
    return CollectionRequest(
        idempotency_key=key,
        amount=money(amount, currency),
        reference="CHG-42",
        description="Management fee 2026-12",
        customer_ref="CUST-7",
        metadata=mandate_metadata(**metadata),
    )


def raw_text(result) -> str:
    return repr(thaw(result.raw))


# --- declines before anything is queued --------------------------------------------------


@pytest.mark.parametrize("missing", ["mandate_reference", "mandate_signed_on", "debtor_iban"])
def test_without_a_mandate_the_collection_is_declined(auto_debit, missing):
    result = auto_debit.collect(request_for(**{missing: ""}))
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "mandate_missing"
    assert result.provider_reference is None
    assert "no direct debit mandate on record" in result.error_message
    assert result.raw["problem"] == f"missing {missing}"


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ({"debtor_iban": "DE89370400440532013001"}, "debtor_iban"),
        ({"mandate_signed_on": "15/01/2026"}, "mandate_signed_on: not an ISO date"),
        ({"mandate_signed_on": "2999-01-01"}, "mandate_signed_on: in the future"),
        ({"mandate_reference": "MNDT 0001"}, "mandate_reference"),
        ({"sequence_type": "ONCE"}, "sequence_type"),
        ({"debtor_bic": "XX"}, "debtor_bic"),
        ({"mandate_limit": "lots"}, "mandate_limit"),
        ({"mandate_limit": "-5"}, "mandate_limit"),
    ],
)
def test_an_invalid_mandate_is_declined_and_says_why(auto_debit, metadata, problem):
    result = auto_debit.collect(request_for(**metadata))
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "mandate_invalid"
    assert problem in result.raw["problem"]
    assert "DE89370400440532013001" not in raw_text(result)


def test_an_amount_above_the_mandate_limit_is_declined(auto_debit):
    over = auto_debit.collect(request_for(amount="100.01", mandate_limit="100.00"))
    assert over.status == AttemptStatus.DECLINED
    assert over.error_code == "mandate_limit_exceeded"
    assert over.error_message == str(auto_debit_error_text("mandate_limit_exceeded"))
    assert over.raw["mandate_limit"] == "100.00"
    at_limit = auto_debit.collect(request_for(amount="100.00", mandate_limit="100"))
    assert at_limit.status == AttemptStatus.PENDING


def test_a_mandate_limit_given_as_money_is_compared_in_its_currency(auto_debit):
    def request(amount, limit):
        return CollectionRequest(
            idempotency_key="CHG000042-A1",
            amount=money(amount, "EUR"),
            reference="CHG-42",
            description="Management fee 2026-12",
            customer_ref="CUST-7",
            metadata=mandate_metadata(),
            mandate_limit=limit,
        )

    over = auto_debit.collect(request("100.01", money("100.00", "EUR")))
    assert over.error_code == "mandate_limit_exceeded"
    assert over.raw["mandate_limit"] == "100.00"
    assert auto_debit.collect(request("100.00", money("100", "EUR"))).status == (
        AttemptStatus.PENDING
    )
    other = auto_debit.collect(request("1.00", money("1000.00", "CNY")))
    assert other.status == AttemptStatus.DECLINED
    assert other.error_code == "mandate_invalid"
    assert "CNY" in other.raw["problem"] and "EUR" in other.raw["problem"]


def test_a_mandate_limit_must_be_money():
    with pytest.raises(TypeError, match="mandate_limit"):
        CollectionRequest(
            idempotency_key="CHG000042-A1",
            amount=money("1.00", "EUR"),
            reference="CHG-42",
            description="x",
            customer_ref="CUST-7",
            mandate_limit="100.00",
        )


def test_declines_queue_nothing_at_the_bank(auto_debit, bank):
    bank.expect_payment("CHG000042-A1")
    for request in (
        request_for(debtor_name=""),
        request_for(debtor_iban="DE00370400440532013000"),
        request_for(amount="500.00", mandate_limit="499.99"),
    ):
        assert auto_debit.collect(request).status == AttemptStatus.DECLINED
    assert bank.lookup("CHG000042-A1") is None
    assert auto_debit.query("CHG000042-A1").error_code == "not_found"


def test_non_euro_charges_are_declined_on_the_file_path(auto_debit):
    result = auto_debit.collect(request_for(currency="CNY"))
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "currency_not_supported"
    assert result.error_message.startswith("SEPA direct debits are collected in euros only")


# --- the file path: PENDING until the bank's files ---------------------------------------


def test_a_valid_mandate_is_pending_with_the_key_as_end_to_end_id(auto_debit):
    request = request_for()
    result = auto_debit.collect(request)
    assert result.status == AttemptStatus.PENDING
    assert result.provider_reference == request.idempotency_key
    assert result.amount is None and result.error_code is None
    assert result.raw["debtor_iban"] == "******************3000"
    assert result.raw["mandate_reference"] == "MNDT-2026-0001"
    assert result.raw["sequence_type"] == "RCUR"
    assert result.raw["queued"] == "pain.008"
    assert DEBTOR_IBAN not in raw_text(result)
    # Collecting again is the same answer, not a second debit.
    assert auto_debit.collect(request) == result


def test_a_key_that_cannot_be_a_sepa_end_to_end_id_is_an_adapter_error(auto_debit):
    with pytest.raises(AdapterError, match="cannot be a SEPA end-to-end id"):
        auto_debit.collect(request_for(key="CHG_000042"))


def test_query_without_a_link_stays_pending(auto_debit):
    result = auto_debit.query("CHG000042-A1")
    assert result.status == AttemptStatus.PENDING
    assert result.provider_reference == "CHG000042-A1"
    assert auto_debit.query("CHG000042-A1", "CHG000042-A1").status == AttemptStatus.PENDING
    with pytest.raises(AdapterError):
        auto_debit.query("CHG000042-A1", "SOMETHING-ELSE")


def test_refund_without_a_link_is_a_manual_transfer(auto_debit):
    result = auto_debit.refund(
        RefundRequest(
            idempotency_key="RFD-000001",
            amount=money("20.00", "EUR"),
            provider_reference="CHG000042-A1",
            reason="overcharge",
        )
    )
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "manual_refund_required"
    assert "credit transfer to the debtor's account" in result.error_message
    assert result.raw["end_to_end_id"] == "CHG000042-A1"
    assert result.raw["amount"] == "20.00"
    unknown = auto_debit.refund(
        RefundRequest(
            idempotency_key="RFD-000002",
            amount=money("1.00", "EUR"),
            provider_reference="not/a/key",
        )
    )
    assert unknown.error_code == "unknown_payment"


def test_options_are_checked_and_never_shown(auto_debit):
    assert repr(auto_debit) == "<AutoDebitAdapter 'auto_debit'>"
    assert auto_debit.creditor.iban == "DE87200500001234567890"
    with pytest.raises(ImproperlyConfigured, match="creditor_id"):
        AutoDebitAdapter(**{**CREDITOR_OPTIONS, "creditor_id": ""})
    with pytest.raises(ImproperlyConfigured, match="creditor_iban"):
        AutoDebitAdapter(**{**CREDITOR_OPTIONS, "creditor_iban": "DE87200500001234567891"})
    with pytest.raises(ImproperlyConfigured, match="SEPA creditor identifier"):
        AutoDebitAdapter(**{**CREDITOR_OPTIONS, "creditor_id": "DE00ZZZ09999999999"})
    with pytest.raises(ImproperlyConfigured, match="creditor_bic"):
        AutoDebitAdapter(**{**CREDITOR_OPTIONS, "creditor_bic": "NOPE"})
    assert AutoDebitAdapter(**{**CREDITOR_OPTIONS, "creditor_bic": ""}).creditor.bic is None


def test_no_notifications(auto_debit):
    assert auto_debit.supports_notifications is False
    with pytest.raises(NotificationRejected):
        auto_debit.parse_notification({}, b"")


def test_error_texts():
    assert "mandate" in auto_debit_error_text("mandate_missing")
    assert auto_debit_error_text("not_found") == "The gateway has no record of this payment."
    assert auto_debit_error_text("some_new_code") == "some_new_code"
    assert auto_debit_error_text(None) == ""


def test_an_accepted_request_becomes_a_debit_in_the_file(auto_debit):
    """From collect's PENDING to the pain.008 line and the bank's camt.054 answer."""
    request = request_for(amount="128.50")
    assert auto_debit.collect(request).status == AttemptStatus.PENDING
    debit = debit_from_metadata(
        request.idempotency_key,
        request.amount,
        request.metadata,
        collection_date=dt.date(2026, 12, 2),
        remittance=f"{request.reference} {request.description}",
    )
    data = build_pain008(
        auto_debit.creditor,
        [debit],
        message_id="DD-20261128-1",
        created_at=dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC),
    )
    [line] = read_pain008(data).debits
    assert (line.end_to_end_id, line.amount, line.mandate.debtor_iban) == (
        "CHG000042-A1",
        money("128.50", "EUR"),
        DEBTOR_IBAN,
    )
    [entry] = read_camt054(camt054_for(data))
    assert (entry.end_to_end_id, entry.amount, entry.credit_debit) == (
        "CHG000042-A1",
        money("128.50", "EUR"),
        "CRDT",
    )


# --- with the simulated debtor bank ---------------------------------------------------


def test_the_same_key_debits_once(auto_debit, bank):
    request = request_for()
    bank.expect_payment(request.idempotency_key)
    first = auto_debit.collect(request)
    again = auto_debit.collect(request)
    assert first.status == again.status == AttemptStatus.SUCCEEDED
    assert first.amount == again.amount == money("128.50", "EUR")
    assert first.provider_reference == again.provider_reference == request.idempotency_key
    assert bank.lookup(request.idempotency_key).takes == [money("128.50", "EUR")]
    with pytest.raises(AdapterError) as caught:
        auto_debit.collect(request_for(amount="128.51"))
    assert caught.value.code == "idempotency_conflict"


def test_a_rejected_debit_is_declined_with_the_banks_reason(auto_debit, bank):
    bank.expect_rejection("CHG000043-A1", "insufficient_funds")
    result = auto_debit.collect(request_for(key="CHG000043-A1"))
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "insufficient_funds"
    assert result.provider_reference == "CHG000043-A1"
    assert bank.lookup("CHG000043-A1").takes == []


def test_a_pending_debit_settles_later(auto_debit, bank):
    request = request_for(key="CHG000044-A1")
    assert auto_debit.collect(request).status == AttemptStatus.PENDING
    assert auto_debit.query(request.idempotency_key).status == AttemptStatus.PENDING
    bank.settle(request.idempotency_key)
    settled = auto_debit.query(request.idempotency_key)
    assert settled.status == AttemptStatus.SUCCEEDED
    assert settled.amount == money("128.50", "EUR")
    assert auto_debit.query("NEVER-SEEN").status == AttemptStatus.DECLINED


def test_a_bank_that_takes_euros_only_declines_other_currencies(auto_debit):
    auto_debit.link = SimulatedDebitBank(currencies={"EUR"})
    result = auto_debit.collect(request_for(currency="CNY"))
    assert result.error_code == "currency_not_supported"


def test_refunds_through_the_link_are_capped(auto_debit, bank):
    request = request_for(amount="50.00")
    bank.expect_payment(request.idempotency_key)
    auto_debit.collect(request)

    def refund(amount, key):
        return auto_debit.refund(
            RefundRequest(
                idempotency_key=key,
                amount=money(amount, "EUR"),
                provider_reference=request.idempotency_key,
            )
        )

    assert refund("50.01", "RFD-000010").error_code == "refund_exceeds_available"
    first = refund("30.00", "RFD-000011")
    assert first.status == AttemptStatus.SUCCEEDED and first.amount == money("30.00", "EUR")
    assert refund("30.00", "RFD-000011").provider_reference == first.provider_reference
    assert refund("20.01", "RFD-000012").error_code == "refund_exceeds_available"
    assert refund("20.00", "RFD-000013").status == AttemptStatus.SUCCEEDED
    assert bank.lookup(request.idempotency_key).refunded == money("50.00", "EUR")
    with pytest.raises(AdapterError) as caught:
        refund("10.00", "RFD-000011")
    assert caught.value.code == "idempotency_conflict"
