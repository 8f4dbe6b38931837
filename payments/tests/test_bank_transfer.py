"""The bank transfer adapter: payment notices, remittance references, and what a bank
transfer cannot do (answer a query, refund by itself, call us back)."""

from __future__ import annotations

import random
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from feemgmt.core.money import money
from payments.adapters import (
    ActionKind,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    NotificationRejected,
    RefundRequest,
    get_adapter,
)
from payments.adapters.bank_transfer import (
    BankTransferAdapter,
    PaymentNotice,
    is_valid_reference,
    parse_remittance_reference,
    remittance_reference,
)
from payments.adapters.bank_transfer.reference import ALPHABET
from payments.adapters.base import thaw

FORMAT = re.compile(r"^FM-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]$")
OPTIONS = {
    "account_name": "上海示例物业有限公司",
    "account_number": "6217 0012 3456 7890 123",
    "bank_name": "中国建设银行上海浦东支行",
}


def code_of(reference: str) -> str:
    """The data and check characters, without prefix and dashes."""
    return reference.replace("-", "")[2:]


def sample_references(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [remittance_reference(f"CHG{rng.randrange(10**9):09d}-A{n}") for n in range(count)]


@pytest.fixture
def bank_transfer(settings):
    settings.PAYMENT_ADAPTERS = {
        **settings.PAYMENT_ADAPTERS,
        "bank_transfer": {
            "class": "payments.adapters.bank_transfer.BankTransferAdapter",
            "options": dict(OPTIONS, link=""),
        },
    }
    return get_adapter("bank_transfer")


def request_for(key: str = "CHG000042-A1", amount: str = "1280.50") -> CollectionRequest:
    return CollectionRequest(
        idempotency_key=key,
        amount=money(amount, "CNY"),
        reference="CHG-42",
        description="物业管理费 2026-03",
        customer_ref="CUST-7",
    )


# --- remittance references ---------------------------------------------------------


def test_reference_format_is_short_and_unambiguous():
    for reference in sample_references(500):
        assert FORMAT.match(reference), reference
        assert not set(code_of(reference)) & set("01OI")
    assert len(ALPHABET) == len(set(ALPHABET)) == 32


def test_reference_is_a_pure_function_of_the_key():
    assert remittance_reference("CHG000042-A1") == remittance_reference("CHG000042-A1")
    # Pinned: a reference already printed on a notice must never change meaning.
    assert remittance_reference("K000001") == "FM-2MWX-MAYJ-6JMF-N"
    assert remittance_reference("CHG000042-A1") != remittance_reference("CHG000042-A2")


def test_references_are_unique_over_100000_distinct_keys():
    keys = [f"CHG{n:07d}-A{n % 5 + 1}" for n in range(100_000)]
    references = {remittance_reference(key) for key in keys}
    assert len(references) == len(keys)


def test_the_check_character_catches_every_substitution_and_adjacent_transposition():
    for reference in sample_references(300, seed=11):
        code = code_of(reference)
        assert is_valid_reference(code)
        for i, original in enumerate(code):
            for other in ALPHABET:
                if other != original:
                    typo = code[:i] + other + code[i + 1 :]
                    assert not is_valid_reference(typo), (reference, typo)
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert not is_valid_reference(swapped), (reference, swapped)
                assert parse_remittance_reference(f"FM{swapped}") is None


@pytest.mark.parametrize(
    "narrative",
    [
        "{ref}",
        "货款 {lower} 谢谢",
        "货款{compact}谢谢",
        "转账 附言:{spaced}\n张三 三月物业费",
        "用途：物业费\n{split}\nREF",
        "ＦＭ－{fullwidth}　汇款",
        "NO.2026031200017 {wrongcheck} 更正 {compact}",
    ],
)
def test_a_reference_is_found_in_a_messy_statement_narrative(narrative):
    reference = remittance_reference("CHG000042-A1")
    code = code_of(reference)
    wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1) % 32]
    text = narrative.format(
        ref=reference,
        lower=f"fm{code}".lower(),
        compact=f"FM{code}",
        spaced=" ".join(reference.replace("-", "")),
        split=f"fm-{code[:6]}\n{code[6:]}",
        fullwidth="".join(chr(ord(c) + 0xFEE0) for c in code),
        wrongcheck=f"FM{code[:-1]}{wrong}",
    )
    assert parse_remittance_reference(text) == reference


@pytest.mark.parametrize(
    "text",
    ["", "货款 谢谢", "FM", "fm7k3q9xhtc", "XFM{code}", "FM{code}7", "{code}"],
)
def test_no_reference_is_read_where_there_is_none(text):
    code = code_of(remittance_reference("CHG000042-A1"))
    assert parse_remittance_reference(text.format(code=code)) is None


def test_a_wrong_check_character_is_rejected():
    code = code_of(remittance_reference("CHG000042-A1"))
    wrong = ALPHABET[(ALPHABET.index(code[-1]) + 5) % 32]
    assert parse_remittance_reference(f"货款 FM{code[:-1]}{wrong} 谢谢") is None


# --- the adapter ---------------------------------------------------------------------


def test_collect_issues_a_payment_notice_and_stays_pending(bank_transfer):
    request = request_for()
    result = bank_transfer.collect(request)

    reference = remittance_reference(request.idempotency_key)
    assert result.status == AttemptStatus.PENDING
    assert result.provider_reference == reference
    assert result.amount is None
    notice = result.action
    assert isinstance(notice, PaymentNotice) and notice.kind == ActionKind.PAYMENT_NOTICE
    assert notice.value == notice.reference == reference
    assert notice.amount == money("1280.50", "CNY")
    assert notice.account_name == OPTIONS["account_name"]
    assert notice.account_number == "6217001234567890123"
    assert notice.bank_name == OPTIONS["bank_name"]
    assert "6217001234567890123" not in repr(thaw(result.raw))
    # A retry shows the customer the same notice.
    assert bank_transfer.collect(request) == result


def test_query_stays_pending_until_reconciliation_settles(bank_transfer):
    request = request_for()
    bank_transfer.collect(request)
    result = bank_transfer.query(request.idempotency_key)
    assert result.status == AttemptStatus.PENDING
    assert result.provider_reference == remittance_reference(request.idempotency_key)
    with pytest.raises(AdapterError):
        bank_transfer.query(request.idempotency_key, "FM-2MWX-MAYJ-6JMF-N")


def test_a_refund_is_a_manual_transfer(bank_transfer):
    reference = bank_transfer.collect(request_for()).provider_reference
    result = bank_transfer.refund(
        RefundRequest(
            idempotency_key="RFD-000001", amount=money("80.00", "CNY"), provider_reference=reference
        )
    )
    assert result.status == AttemptStatus.DECLINED
    assert result.error_code == "manual_refund_required"
    assert "manual transfer" in result.error_message
    assert thaw(result.raw)["remittance_reference"] == reference


def test_a_refund_of_something_that_is_not_our_reference_is_unknown(bank_transfer):
    result = bank_transfer.refund(
        RefundRequest(
            idempotency_key="RFD-000002", amount=money("1.00", "CNY"), provider_reference="FM-XXXX"
        )
    )
    assert result.error_code == "unknown_payment"


def test_banks_send_no_notifications(bank_transfer):
    assert bank_transfer.supports_notifications is False
    with pytest.raises(NotificationRejected):
        bank_transfer.parse_notification({}, b"{}")


def test_the_payee_account_is_required():
    with pytest.raises(ImproperlyConfigured, match="account_number"):
        BankTransferAdapter(account_name="A", bank_name="B")
