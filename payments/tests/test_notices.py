"""Customer e-mail notices: the facts each one states, sent once per (kind, key), in
the notice language, skipped without an address; and the daily selection of direct
debit pre-notifications and mandate reminders."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import translation

from billing.models import Charge
from contracts.models import Contract, Fee
from contracts.tests.factories import CustomerFactory, make_contract
from feemgmt.core.money import money
from ledger.postings import post_prepayment
from payments.adapters.bank_transfer import remittance_reference
from payments.choices import AttemptStatus, MandateStatus
from payments.models import Mandate, PaymentAttempt, SentNotice, attempt_key
from payments.services import notices
from tests.clock import at

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 4, 13)
PAYEE = {
    "account_name": "上海示例物业有限公司",
    "account_number": "6217 0012 3456 7890 123",
    "bank_name": "中国建设银行上海浦东支行",
}
IBAN = "DE89370400440532013000"


@pytest.fixture(autouse=True)
def _payee_account(settings):
    settings.PAYMENT_ADAPTERS = {
        **settings.PAYMENT_ADAPTERS,
        "bank_transfer": {
            "class": "payments.adapters.bank_transfer.BankTransferAdapter",
            "options": dict(PAYEE, link=""),
        },
    }
    settings.AUTO_DEBIT_PRENOTIFY_DAYS = 3
    settings.DEFAULT_FROM_EMAIL = "billing@example.com"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Call a notice and run what it left for the commit (the test's transaction
    never commits), as happens when the caller's transaction commits."""

    def call(notice, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return notice(*args, **kwargs)

    return call


# --- Data ---------------------------------------------------------------------------------


def make_charge(*, payment_method="alipay", customer=None, amount="3000.00") -> Charge:
    contract = make_contract(customer=customer, payment_method=payment_method)
    return Charge.objects.create(
        contract=contract,
        fee=contract.fees.get(),
        kind="recurring",
        period_start=dt.date(2026, 4, 1),
        period_end=dt.date(2026, 4, 30),
        due_date=dt.date(2026, 4, 1),
        amount=money(amount, "CNY"),
    )


def make_attempt(charge: Charge, *, status: str, number: int = 1, **fields) -> PaymentAttempt:
    fields.setdefault("method", charge.contract.payment_method)
    return PaymentAttempt.objects.create(
        charge=charge,
        number=number,
        idempotency_key=attempt_key(charge.pk, number),
        amount=charge.amount,
        status=status,
        **fields,
    )


def succeeded(charge: Charge | None = None, **fields) -> PaymentAttempt:
    charge = charge or make_charge()
    fields.setdefault("provider_reference", f"2026041322{charge.pk:06d}{fields.get('number', 1)}")
    return make_attempt(
        charge,
        status=AttemptStatus.SUCCEEDED,
        decided_at=dt.datetime(2026, 4, 13, 9, 30, tzinfo=SHANGHAI),
        **fields,
    )


def make_mandate(customer, *, valid_until=None, status=MandateStatus.ACTIVE, **fields) -> Mandate:
    fields.setdefault("reference", f"MD-{customer.code}")
    return Mandate.objects.create(
        customer=customer,
        signed_on=dt.date(2026, 1, 5),
        debtor_name="上海示例科技有限公司",
        debtor_iban=IBAN,
        valid_until=valid_until,
        status=status,
        **fields,
    )


def debit_contract(*, customer=None, payment_method="auto_debit", status=None) -> Contract:
    """A monthly contract signed on 2026-03-01 whose service starts later (nothing
    billed yet), due on the 16th of each month."""
    with at(dt.date(2026, 3, 1)):
        contract = make_contract(
            customer=customer,
            payment_method=payment_method,
            service_start=dt.date(2026, 3, 16),
            alignment="anniversary",
            signed_on=dt.date(2026, 3, 1),
        )
    if status is not None:
        Contract.objects.filter(pk=contract.pk).update(status=status)
    return contract


def due_on(contract: Contract, day: dt.date | None) -> Fee:
    fee = contract.fees.get()
    Fee.objects.filter(pk=fee.pk).update(next_due_date=day)
    return Fee.objects.get(pk=fee.pk)


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


# --- Receipt ------------------------------------------------------------------------------


def test_receipt_states_the_payment(commit, mailoutbox):
    attempt = succeeded()
    contract = attempt.charge.contract

    assert commit(notices.receipt, attempt.pk) is True

    [message] = mailoutbox
    assert message.to == [contract.customer.email]
    assert message.from_email == "billing@example.com"
    assert message.subject == f"Payment received for contract {contract.number}: CNY 3,000.00"
    for body in (message.body, html_of(message)):
        assert f"Dear {contract.customer.name}," in body
        assert "we have received your payment" in body
        assert contract.number in body
        assert "April 1, 2026 to April 30, 2026" in body
        assert "CNY 3,000.00" in body
        assert "Alipay" in body
        assert attempt.provider_reference in body  # the gateway's reference
        assert attempt.idempotency_key in body
        assert "April 13, 2026" in body  # the payment date
        assert PAYEE["account_name"] in body  # signed by the company
    assert "Amount paid: CNY 3,000.00" in message.body
    assert "<" not in message.body
    notice = SentNotice.objects.get()
    assert (notice.kind, notice.key) == ("receipt", attempt.idempotency_key)
    assert (notice.customer, notice.recipient) == (contract.customer, contract.customer.email)
    assert notice.subject == message.subject


def test_receipt_is_sent_once(commit, mailoutbox):
    attempt = succeeded()
    assert commit(notices.receipt, attempt.pk) is True
    assert commit(notices.receipt, attempt.pk) is False
    assert len(mailoutbox) == 1
    assert SentNotice.objects.count() == 1


def test_each_attempt_has_its_own_receipt(commit, mailoutbox):
    charge = make_charge()
    make_attempt(charge, status=AttemptStatus.FAILED, number=1)
    first = succeeded(charge, number=2)
    other = succeeded(make_charge())
    assert commit(notices.receipt, first.pk) is True
    assert commit(notices.receipt, other.pk) is True
    assert sorted(SentNotice.objects.values_list("key", flat=True)) == sorted(
        [first.idempotency_key, other.idempotency_key]
    )
    assert len(mailoutbox) == 2


def test_receipts_of_many_payments_are_each_sent_once_as_one_would_be(
    commit, mailoutbox, django_assert_max_num_queries
):
    attempts = [succeeded() for _ in range(4)]
    declined = make_attempt(make_charge(), status=AttemptStatus.FAILED)
    assert commit(notices.receipt, attempts[0].pk) is True  # sent on its own before
    alone = mailoutbox.pop()

    with django_assert_max_num_queries(6):  # whatever the count of receipts
        assert commit(notices.receipts, [a.pk for a in attempts] + [declined.pk]) == 3

    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        a.charge.contract.customer.email for a in attempts[1:]
    )
    # the same message the single receipt writes
    twin = mailoutbox[0]
    assert twin.subject.startswith("Payment received for contract ")
    assert [line.split(":")[0] for line in twin.body.splitlines() if ": " in line] == [
        line.split(":")[0] for line in alone.body.splitlines() if ": " in line
    ]
    assert SentNotice.objects.filter(kind="receipt").count() == 4
    assert commit(notices.receipts, [a.pk for a in attempts]) == 0  # a repeated task
    assert len(mailoutbox) == 3


@pytest.mark.django_db(transaction=True)
def test_receipts_the_mail_server_refuses_are_logged_and_not_sent_again(
    mailoutbox, monkeypatch, caplog
):
    attempts = [succeeded() for _ in range(2)]

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with caplog.at_level(logging.ERROR, logger=notices.logger.name):
        assert notices.receipts([a.pk for a in attempts]) == 2
    for attempt in attempts:
        assert attempt.idempotency_key in caplog.text
    assert "recorded but not sent" in caplog.text
    monkeypatch.undo()
    assert notices.receipts([a.pk for a in attempts]) == 0
    assert mailoutbox == []


def test_no_receipt_for_an_attempt_that_did_not_succeed(commit, mailoutbox):
    attempt = make_attempt(make_charge(), status=AttemptStatus.FAILED)
    assert commit(notices.receipt, attempt.pk) is False
    assert mailoutbox == []
    assert not SentNotice.objects.exists()


def test_text_body_is_not_html_escaped(commit, mailoutbox):
    customer = CustomerFactory(name="Lee & Sons <Shanghai>")
    attempt = succeeded(make_charge(customer=customer))
    commit(notices.receipt, attempt.pk)
    [message] = mailoutbox
    assert "Dear Lee & Sons <Shanghai>," in message.body
    assert "Dear Lee &amp; Sons &lt;Shanghai&gt;," in html_of(message)


def test_a_rolled_back_caller_sends_nothing(django_capture_on_commit_callbacks, mailoutbox):
    attempt = succeeded()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        assert notices.receipt(attempt.pk) is True
        raise RuntimeError("the caller fails after asking for the notice")
    assert mailoutbox == []
    assert not SentNotice.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert notices.receipt(attempt.pk) is True
    assert len(mailoutbox) == 1


# --- Failure ------------------------------------------------------------------------------


def test_failure_gives_the_reason_the_retry_date_and_how_to_pay(commit, mailoutbox):
    charge = make_charge(payment_method="wechat_pay", amount="1250.50")
    attempt = make_attempt(charge, status=AttemptStatus.FAILED, error_code="insufficient_funds")

    assert commit(notices.failure, attempt.pk, retry_on=dt.date(2026, 4, 16)) is True

    [message] = mailoutbox
    number = charge.contract.number
    assert message.subject == f"Payment failed for contract {number}: CNY 1,250.50"
    assert message.to == [charge.contract.customer.email]
    assert "The payer&#x27;s account has insufficient funds." in html_of(message)
    for body in (message.body, html_of(message)):
        assert "CNY 1,250.50" in body
        assert "WeChat Pay" in body
        assert "We will try again on April 16, 2026." in body
        assert "top up your prepaid balance" in body
        assert PAYEE["account_name"] in body
        assert PAYEE["bank_name"] in body
        assert "6217001234567890123" in body  # the payee account, without spaces
        assert f"{number}-{charge.pk}" in body  # the transfer reference quotes the contract
        assert "No further attempt" not in body
    assert "Reason: The payer's account has insufficient funds." in message.body
    assert SentNotice.objects.get().kind == "failure"


def test_failure_without_a_retry_says_so(commit, mailoutbox):
    attempt = make_attempt(make_charge(), status=AttemptStatus.FAILED, error_code="card_declined")
    assert commit(notices.failure, attempt.pk, retry_on=None) is True
    [message] = mailoutbox
    for body in (message.body, html_of(message)):
        assert "No further attempt will be made automatically." in body
        assert "try again" not in body
        assert "top up" not in body
        assert PAYEE["bank_name"] in body
    assert "Reason: The payer's bank declined the payment." in message.body


def test_failure_with_an_unknown_code_gives_a_plain_reason(commit, mailoutbox):
    attempt = make_attempt(
        make_charge(), status=AttemptStatus.FAILED, error_code="ACQ.TRADE_HAS_CLOSE"
    )
    commit(notices.failure, attempt.pk)
    [message] = mailoutbox
    assert "Reason: The payment could not be collected." in message.body
    assert "ACQ.TRADE_HAS_CLOSE" not in message.body


def test_failure_is_sent_once_per_attempt(commit, mailoutbox):
    attempt = make_attempt(make_charge(), status=AttemptStatus.FAILED, error_code="card_declined")
    assert commit(notices.failure, attempt.pk, retry_on=dt.date(2026, 4, 14)) is True
    assert commit(notices.failure, attempt.pk, retry_on=dt.date(2026, 4, 14)) is False
    assert len(mailoutbox) == 1


def test_no_failure_notice_for_an_attempt_that_did_not_fail(commit, mailoutbox):
    attempt = succeeded()
    assert commit(notices.failure, attempt.pk, retry_on=None) is False
    assert mailoutbox == []


# --- Payment request ----------------------------------------------------------------------


def test_payment_request_with_a_qr_code(commit, mailoutbox):
    charge = make_charge(payment_method="wechat_pay")
    code = "weixin://wxpay/bizpayurl?pr=Ab12Cd3"
    attempt = make_attempt(
        charge, status=AttemptStatus.PENDING, action_kind="qr_code", action_value=code
    )

    assert commit(notices.payment_request, attempt.pk) is True

    [message] = mailoutbox
    number = charge.contract.number
    assert message.subject == (
        f"Payment request for contract {number}: CNY 3,000.00 due April 1, 2026"
    )
    assert code in message.body
    assert "scan this payment code with the WeChat Pay app" in message.body
    html = html_of(message)
    assert code in html
    assert 'href="weixin://' not in html  # not a web link
    assert "Due date: April 1, 2026" in message.body
    assert SentNotice.objects.get().kind == "payment_request"


def test_payment_request_with_a_pay_link(commit, mailoutbox):
    link = "https://pay.example.com/checkout?id=42&sig=abc"
    attempt = make_attempt(
        make_charge(payment_method="alipay"),
        status=AttemptStatus.PENDING,
        action_kind="pay_url",
        action_value=link,
    )
    assert commit(notices.payment_request, attempt.pk) is True
    [message] = mailoutbox
    assert link in message.body
    assert "with Alipay by opening this link" in message.body
    assert 'href="https://pay.example.com/checkout?id=42&amp;sig=abc"' in html_of(message)


def test_payment_request_for_a_bank_transfer(commit, mailoutbox):
    charge = make_charge(payment_method="bank_transfer", amount="880.00")
    attempt = make_attempt(charge, status=AttemptStatus.PENDING, action_kind="payment_notice")
    reference = remittance_reference(attempt.idempotency_key)
    PaymentAttempt.objects.filter(pk=attempt.pk).update(
        action_value=reference, provider_reference=reference
    )

    assert commit(notices.payment_request, attempt.pk) is True

    [message] = mailoutbox
    for body in (message.body, html_of(message)):
        assert f"Quote the remittance reference {reference} exactly" in body
        assert PAYEE["account_name"] in body
        assert PAYEE["bank_name"] in body
        assert "6217001234567890123" in body
        assert "CNY 880.00" in body
        assert "April 1, 2026" in body  # the due date
    assert f"Remittance reference: {reference}" in message.body
    assert "Account number: 6217001234567890123" in message.body


@pytest.mark.parametrize(
    ("status", "action_kind", "action_value"),
    [
        (AttemptStatus.SUCCEEDED, "qr_code", "weixin://wxpay/bizpayurl?pr=x"),  # paid meanwhile
        (AttemptStatus.PENDING, "", ""),  # nothing for the customer to do
        (AttemptStatus.PENDING, "carrier_pigeon", "somewhere"),  # an action we cannot describe
    ],
)
def test_no_payment_request_without_something_to_do(
    commit, mailoutbox, status, action_kind, action_value
):
    attempt = make_attempt(
        make_charge(), status=status, action_kind=action_kind, action_value=action_value
    )
    assert commit(notices.payment_request, attempt.pk) is False
    assert mailoutbox == []


def test_payment_request_is_sent_once(commit, mailoutbox):
    attempt = make_attempt(
        make_charge(),
        status=AttemptStatus.PENDING,
        action_kind="pay_url",
        action_value="https://pay.example.com/p/1",
    )
    assert commit(notices.payment_request, attempt.pk) is True
    assert commit(notices.payment_request, attempt.pk) is False
    assert len(mailoutbox) == 1


# --- Direct debit notices -----------------------------------------------------------------


def test_upcoming_debit_states_amount_date_mandate_and_masked_account(commit, mailoutbox):
    contract = debit_contract()
    make_mandate(contract.customer, reference="MD-2026-0001")
    fee = due_on(contract, DAY + dt.timedelta(days=3))

    assert commit(notices.upcoming_debit, fee.pk, DAY) is True

    [message] = mailoutbox
    assert message.to == [contract.customer.email]
    assert message.subject == (
        f"Direct debit of CNY 3,000.00 on April 16, 2026 for contract {contract.number}"
    )
    for body in (message.body, html_of(message)):
        assert "On April 16, 2026 we will collect" in body
        assert "CNY 3,000.00" in body
        assert "MD-2026-0001" in body
        assert "******************3000" in body
        assert IBAN not in body
        assert "prepaid balance" in body
    assert "Debit date: April 16, 2026" in message.body
    notice = SentNotice.objects.get()
    assert (notice.kind, notice.key) == ("upcoming_debit", f"{fee.pk}:2026-04-16")


def test_upcoming_debit_states_what_is_debited_for_a_cut_period_after_the_prepaid_balance(
    commit, mailoutbox
):
    customer = CustomerFactory()
    make_mandate(customer)
    with at(dt.date(2026, 4, 1)):
        contract = make_contract(
            customer=customer,
            payment_method="auto_debit",
            service_start=dt.date(2026, 4, 1),
            service_end=dt.date(2026, 5, 10),
            signed_on=dt.date(2026, 4, 1),
        )
    post_prepayment(
        customer_id=customer.pk,
        amount=money("500.00", "CNY"),
        method="bank_transfer",
        reference="TOPUP",
        on=dt.date(2026, 4, 20),
    )
    fee = contract.fees.get()
    assert fee.next_due_date == dt.date(2026, 5, 1)

    assert commit(notices.upcoming_debit, fee.pk, dt.date(2026, 4, 28)) is True

    # May 1 – 10 of 31 days: 3000.00 × 10/31 = 967.74, less the 500.00 prepaid
    [message] = mailoutbox
    assert "CNY 467.74" in message.subject
    assert "Amount: CNY 467.74" in message.body
    assert "3,000.00" not in message.body


def test_no_upcoming_debit_notice_when_the_prepaid_balance_pays_it_all(commit, mailoutbox):
    contract = debit_contract()
    make_mandate(contract.customer)
    fee = due_on(contract, DAY + dt.timedelta(days=3))
    post_prepayment(
        customer_id=contract.customer_id,
        amount=money("3000.00", "CNY"),
        method="bank_transfer",
        reference="TOPUP",
        on=DAY,
    )
    assert commit(notices.upcoming_debit, fee.pk, DAY) is False
    assert mailoutbox == []


def test_upcoming_debit_is_sent_once_per_debit_date(commit, mailoutbox):
    contract = debit_contract()
    make_mandate(contract.customer)
    fee = due_on(contract, DAY + dt.timedelta(days=3))
    assert commit(notices.upcoming_debit, fee.pk, DAY) is True
    assert commit(notices.upcoming_debit, fee.pk, DAY) is False
    assert len(mailoutbox) == 1

    # The next period's debit is a new notice.
    due_on(contract, dt.date(2026, 5, 16))
    assert commit(notices.upcoming_debit, fee.pk, dt.date(2026, 5, 13)) is True
    assert len(mailoutbox) == 2


def test_no_upcoming_debit_notice_without_a_mandate_valid_on_the_debit_date(commit, mailoutbox):
    contract = debit_contract()
    fee = due_on(contract, DAY + dt.timedelta(days=3))
    assert commit(notices.upcoming_debit, fee.pk, DAY) is False  # no mandate at all

    make_mandate(contract.customer, valid_until=DAY + dt.timedelta(days=2))
    assert commit(notices.upcoming_debit, fee.pk, DAY) is False  # expires before the debit
    assert mailoutbox == []
    assert not SentNotice.objects.exists()


def test_no_upcoming_debit_notice_for_a_date_already_passed_or_another_method(commit, mailoutbox):
    contract = debit_contract()
    make_mandate(contract.customer)
    fee = due_on(contract, DAY - dt.timedelta(days=1))
    assert commit(notices.upcoming_debit, fee.pk, DAY) is False

    other = debit_contract(payment_method="bank_transfer")
    make_mandate(other.customer)
    fee = due_on(other, DAY + dt.timedelta(days=3))
    assert commit(notices.upcoming_debit, fee.pk, DAY) is False
    assert mailoutbox == []


def test_mandate_expiring_asks_for_a_new_mandate(commit, mailoutbox):
    customer = CustomerFactory()
    mandate = make_mandate(customer, reference="MD-2024-0042", valid_until=dt.date(2026, 5, 3))

    assert commit(notices.mandate_expiring, mandate.pk) is True
    assert commit(notices.mandate_expiring, mandate.pk) is False

    [message] = mailoutbox
    assert message.to == [customer.email]
    assert message.subject == "Your direct debit mandate MD-2024-0042 expires on May 3, 2026"
    for body in (message.body, html_of(message)):
        assert "sign a new mandate" in body
        assert "valid until May 3, 2026" in body
        assert "******************3000" in body
        assert IBAN not in body
    notice = SentNotice.objects.get()
    assert (notice.kind, notice.key) == ("mandate_expiring", f"{mandate.pk}:2026-05-03")


def test_mandate_expiring_is_asked_again_for_a_renewed_expiry(commit, mailoutbox):
    mandate = make_mandate(CustomerFactory(), valid_until=dt.date(2026, 5, 3))
    assert commit(notices.mandate_expiring, mandate.pk) is True
    Mandate.objects.filter(pk=mandate.pk).update(valid_until=dt.date(2027, 5, 3))
    assert commit(notices.mandate_expiring, mandate.pk) is True
    assert len(mailoutbox) == 2


def test_no_reminder_for_a_revoked_or_open_ended_mandate(commit, mailoutbox):
    revoked = make_mandate(
        CustomerFactory(), valid_until=dt.date(2026, 5, 3), status=MandateStatus.REVOKED
    )
    open_ended = make_mandate(CustomerFactory(), valid_until=None)
    assert commit(notices.mandate_expiring, revoked.pk) is False
    assert commit(notices.mandate_expiring, open_ended.pk) is False
    assert mailoutbox == []


# --- No address ---------------------------------------------------------------------------


def test_customers_without_an_email_address_are_skipped(commit, mailoutbox):
    customer = CustomerFactory(email="")
    attempt = succeeded(make_charge(customer=customer))
    mandate = make_mandate(customer, valid_until=dt.date(2026, 5, 3))
    contract = debit_contract(customer=customer)
    fee = due_on(contract, DAY + dt.timedelta(days=3))

    assert commit(notices.receipt, attempt.pk) is False
    assert commit(notices.mandate_expiring, mandate.pk) is False
    assert commit(notices.upcoming_debit, fee.pk, DAY) is False
    assert mailoutbox == []
    assert not SentNotice.objects.exists()

    # Once an address is added, the notice goes out.
    customer.email = "ap@example.com"
    customer.save()
    assert commit(notices.receipt, attempt.pk) is True
    assert mailoutbox[0].to == ["ap@example.com"]


# --- Language -----------------------------------------------------------------------------


def test_notices_are_written_in_the_default_language_simplified_chinese(
    commit, mailoutbox, settings
):
    settings.LANGUAGE_CODE = "zh-hans"  # the project's default
    attempt = make_attempt(
        make_charge(),
        status=AttemptStatus.PENDING,
        action_kind="pay_url",
        action_value="https://pay.example.com/p/1",
    )

    with translation.override("en"):  # a caller working in English
        assert commit(notices.payment_request, attempt.pk) is True
        assert translation.get_language() == "en"  # left as it was

    [message] = mailoutbox
    assert message.extra_headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in html_of(message)
    # Dates follow the Chinese format, the subject's too.
    assert "2026年4月1日" in message.subject
    assert "2026年4月1日" in message.body
    assert "April" not in message.body


def test_notices_follow_the_notice_language_not_the_callers(commit, mailoutbox, settings):
    settings.LANGUAGE_CODE = "en"
    attempt = succeeded()
    with translation.override("zh-hans"):
        assert commit(notices.receipt, attempt.pk) is True
        assert translation.get_language() == "zh-hans"
    [message] = mailoutbox
    assert message.extra_headers["Content-Language"] == "en"
    assert '<html lang="en">' in html_of(message)
    assert message.subject.startswith("Payment received for contract ")
    assert "April 13, 2026" in message.body


def test_notices_in_english_when_overridden(commit, mailoutbox, settings):
    settings.LANGUAGE_CODE = "en"
    mandate = make_mandate(CustomerFactory(), valid_until=dt.date(2026, 5, 3))
    with translation.override("en"):
        commit(notices.mandate_expiring, mandate.pk)
    [message] = mailoutbox
    assert message.subject.startswith("Your direct debit mandate ")
    assert '<html lang="en">' in html_of(message)


def test_notice_language_is_the_sites_default(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert notices.notice_language(CustomerFactory()) == "zh-hans"


# --- Selection and the daily run ----------------------------------------------------------


def test_upcoming_debit_fees_are_signed_or_active_auto_debit_fees_due_in_three_days():
    target = DAY + dt.timedelta(days=3)
    signed = due_on(debit_contract(), target)
    active = due_on(debit_contract(status="active"), target)
    due_on(debit_contract(), target - dt.timedelta(days=1))  # too early to tell
    due_on(debit_contract(), target + dt.timedelta(days=1))  # told tomorrow
    due_on(debit_contract(), None)  # nothing left to bill
    due_on(debit_contract(payment_method="bank_transfer"), target)
    due_on(debit_contract(payment_method="alipay", status="active"), target)
    due_on(debit_contract(status="ended"), target)
    due_on(debit_contract(status="terminated"), target)
    draft = make_contract(payment_method="auto_debit")
    due_on(draft, target)

    assert notices.upcoming_debit_fee_ids(DAY) == sorted([signed.pk, active.pk])


def test_upcoming_debit_fees_follow_the_prenotification_setting(settings):
    settings.AUTO_DEBIT_PRENOTIFY_DAYS = 5
    in_three = due_on(debit_contract(), DAY + dt.timedelta(days=3))
    in_five = due_on(debit_contract(), DAY + dt.timedelta(days=5))
    assert notices.upcoming_debit_fee_ids(DAY) == [in_five.pk]
    assert in_three.pk not in notices.upcoming_debit_fee_ids(DAY)


def test_expiring_mandates_are_active_ones_ending_within_thirty_days():
    def mandate(valid_until, status=MandateStatus.ACTIVE):
        return make_mandate(CustomerFactory(), valid_until=valid_until, status=status).pk

    today = mandate(DAY)
    last = mandate(DAY + dt.timedelta(days=30))
    mandate(DAY - dt.timedelta(days=1))  # already expired
    mandate(DAY + dt.timedelta(days=31))  # not yet
    mandate(None)  # no end
    mandate(DAY + dt.timedelta(days=10), status=MandateStatus.REVOKED)
    mandate(DAY + dt.timedelta(days=10), status=MandateStatus.EXPIRED)

    assert notices.expiring_mandate_ids(DAY) == sorted([today, last])


def test_daily_notices_send_each_once(commit, mailoutbox):
    contract = debit_contract()
    make_mandate(contract.customer, valid_until=DAY + dt.timedelta(days=20))
    due_on(contract, DAY + dt.timedelta(days=3))
    no_mandate = debit_contract()
    due_on(no_mandate, DAY + dt.timedelta(days=3))

    assert commit(notices.send_daily_notices, DAY) == {"upcoming_debit": 1, "mandate_expiring": 1}
    assert sorted(m.to[0] for m in mailoutbox) == [contract.customer.email] * 2
    assert commit(notices.send_daily_notices, DAY) == {"upcoming_debit": 0, "mandate_expiring": 0}
    assert len(mailoutbox) == 2


def test_daily_notices_go_on_after_an_error(commit, mailoutbox, monkeypatch, caplog):
    contract = debit_contract()
    make_mandate(contract.customer, valid_until=DAY + dt.timedelta(days=20))
    due_on(contract, DAY + dt.timedelta(days=3))

    def broken(fee_id, on):
        raise RuntimeError("template missing")

    monkeypatch.setattr(notices.daily, "upcoming_debit", broken)
    with caplog.at_level(logging.ERROR, logger=notices.logger.name):
        counts = commit(notices.send_daily_notices, DAY)
    assert counts == {"upcoming_debit": 0, "mandate_expiring": 1}
    assert "template missing" in caplog.text
    assert len(mailoutbox) == 1


# --- Committed for real -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_second_call_after_a_committed_first_returns_false(mailoutbox):
    attempt = succeeded()
    assert notices.receipt(attempt.pk) is True  # autocommit: recorded, then sent
    assert len(mailoutbox) == 1
    assert notices.receipt(attempt.pk) is False
    assert len(mailoutbox) == 1
    assert SentNotice.objects.filter(kind="receipt", key=attempt.idempotency_key).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_mail_that_cannot_be_sent_is_logged_and_not_sent_again(mailoutbox, monkeypatch, caplog):
    attempt = succeeded()

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with caplog.at_level(logging.ERROR, logger=notices.logger.name):
        assert notices.receipt(attempt.pk) is False
    assert "recorded but not sent" in caplog.text
    assert attempt.idempotency_key in caplog.text
    assert SentNotice.objects.filter(key=attempt.idempotency_key).exists()  # at most once

    monkeypatch.undo()
    assert notices.receipt(attempt.pk) is False
    assert mailoutbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_send_one_mail(mailoutbox):
    attempt = succeeded()
    calls = 4
    barrier = threading.Barrier(calls)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(notices.receipt(attempt.pk))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == [False] * (calls - 1) + [True]
    assert len(mailoutbox) == 1
    assert SentNotice.objects.count() == 1
