"""The collection side in the admin: read-only lists of what the services wrote,
and the actions that call them (retry, cancel, write-off with a second user's
approval, refunds, manual refund confirmation, mandates, pain.008 download), plus
ledger balances on the customer pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.choices import ChargeStatus
from billing.models import Charge
from contracts.tests.factories import CustomerFactory
from feemgmt.core.money import money
from payments.choices import ApprovalStatus, AttemptStatus, MandateStatus, RefundStatus
from payments.models import (
    DirectDebitBatch,
    InboundNotification,
    Mandate,
    Refund,
    SentNotice,
    WriteOffRequest,
)
from payments.services.collection import Outcome, charge_collect
from payments.services.staff import write_off_request
from payments.tasks import collect_charge_task
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at

pytestmark = pytest.mark.django_db

PAIN008 = '<?xml version="1.0" encoding="UTF-8"?><Document><CstmrDrctDbtInitn/></Document>'
VALID_IBAN = "DE89 3704 0044 0532 0130 00"


def collected(amount: str, expected: Outcome) -> Charge:
    """A sandbox charge after its first collection on DAY."""
    charge = billed_charge(amount)
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == expected
    charge.refresh_from_db()
    return charge


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client, model: str, action: str, objects, **extra):
    url = reverse(f"admin:{model}_changelist")
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(url, data)


def staff(django_user_model, username: str, *codenames: str):
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def manager(django_user_model):
    return staff(
        django_user_model,
        "manager",
        "approve_writeoffrequest",
        "view_writeoffrequest",
        "view_charge",
    )


@pytest.fixture
def clerk(django_user_model):
    return staff(
        django_user_model,
        "clerk",
        "view_writeoffrequest",
        "add_writeoffrequest",
        "view_charge",
        "change_charge",
    )


def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def collection_data(admin_user):
    """One of every collection record."""
    paid = collected("3000.00", Outcome.PAID)
    failed = collected("3000.51", Outcome.FAILED)
    waiting = collected("3000.91", Outcome.PENDING)
    customer = paid.contract.customer
    mandate = Mandate.objects.create(
        customer=customer,
        reference="MNDT-0001",
        signed_on=DAY,
        debtor_name="Zhang San",
        debtor_iban="DE89370400440532013000",
    )
    batch = DirectDebitBatch.objects.create(
        message_id="MSG-20260302-01",
        collection_date=DAY,
        transactions=1,
        control_sum=Decimal("3000.00"),
        currency="EUR",
        document=PAIN008,
    )
    attempt = paid.attempts.get()
    refund = Refund.objects.create(
        attempt=attempt,
        number=1,
        idempotency_key="RF000001-01",
        amount=money("10.00", attempt.amount.currency.code),
        reason="goodwill",
        status=RefundStatus.MANUAL,
        requested_by=admin_user,
    )
    notification = InboundNotification.objects.create(
        method="sandbox",
        accepted=False,
        reason="bad_signature",
        idempotency_key=attempt.idempotency_key,
        raw={"trade_no": "T1", "sign": "secret-signature", "amount": "3000.00"},
    )
    notice = SentNotice.objects.create(
        kind="receipt",
        key=f"attempt:{attempt.pk}",
        customer=customer,
        recipient="payer@example.com",
        subject="Receipt",
    )
    with at(DAY):
        write_off = write_off_request(charge=failed, requested_by=admin_user, reason="bad debt")
    return {
        "paid": paid,
        "failed": failed,
        "waiting": waiting,
        "mandate": mandate,
        "batch": batch,
        "refund": refund,
        "notification": notification,
        "notice": notice,
        "write_off": write_off,
        "attempt": attempt,
    }


# --- Every page renders ------------------------------------------------------------

PAGES = [
    ("payments_paymentattempt", "attempt"),
    ("payments_refund", "refund"),
    ("payments_writeoffrequest", "write_off"),
    ("payments_mandate", "mandate"),
    ("payments_directdebitbatch", "batch"),
    ("payments_inboundnotification", "notification"),
    ("payments_sentnotice", "notice"),
    ("billing_charge", "failed"),
    ("contracts_customer", None),
]


@pytest.mark.parametrize(("model", "key"), PAGES)
def test_every_changelist_and_change_page_renders_with_data(
    admin_client, collection_data, model, key
):
    response = admin_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    obj = collection_data[key] if key else collection_data["paid"].contract.customer
    assert response.context["cl"].result_count >= 1
    response = admin_client.get(reverse(f"admin:{model}_change", args=(obj.pk,)))
    assert response.status_code == 200


def test_collection_records_cannot_be_added_by_hand(admin_client):
    for model in (
        "paymentattempt",
        "refund",
        "writeoffrequest",
        "directdebitbatch",
        "inboundnotification",
        "sentnotice",
    ):
        assert admin_client.get(reverse(f"admin:payments_{model}_add")).status_code == 403


def test_the_sidebar_lists_the_collection_pages(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:payments_paymentattempt_changelist") in page
    assert reverse("admin:alerts_alert_changelist") in page


# --- Payment attempts ---------------------------------------------------------------


def test_attempt_list_shows_status_colours_and_searches_by_contract(admin_client, collection_data):
    url = reverse("admin:payments_paymentattempt_changelist")
    page = admin_client.get(url).content.decode()
    assert "bg-green-100" in page  # succeeded
    assert "bg-red-100" in page  # failed
    failed = collection_data["failed"]
    response = admin_client.get(url, {"q": failed.contract.number})
    assert [a.pk for a in response.context["cl"].result_list] == [failed.attempts.get().pk]
    response = admin_client.get(url, {"status__exact": AttemptStatus.PENDING})
    assert {a.charge_id for a in response.context["cl"].result_list} == {
        collection_data["waiting"].pk
    }


def test_attempt_page_shows_the_qr_code_and_the_exchange(admin_client, collection_data):
    attempt = collection_data["waiting"].attempts.get()
    page = admin_client.get(
        reverse("admin:payments_paymentattempt_change", args=(attempt.pk,))
    ).content.decode()
    assert attempt.action_value.startswith("sandbox://")
    assert attempt.action_value in page
    assert "QR code content" in page
    assert "<pre" in page
    # Only a succeeded attempt offers a refund.
    assert reverse("admin:payments_paymentattempt_refund_attempt", args=(attempt.pk,)) not in page


def test_refund_button_and_form_refund_a_sandbox_payment(admin_client, collection_data):
    attempt = collection_data["attempt"]
    refund_url = reverse("admin:payments_paymentattempt_refund_attempt", args=(attempt.pk,))
    change_url = reverse("admin:payments_paymentattempt_change", args=(attempt.pk,))
    assert refund_url in admin_client.get(change_url).content.decode()

    form_page = admin_client.get(refund_url)
    assert form_page.status_code == 200
    # 10.00 is already out (the manual refund of the fixture).
    assert form_page.context["form"].initial["amount"] == Decimal("2990.00")

    response = admin_client.post(refund_url, {"amount": "100.00", "reason": "overcharged"})
    assert response.status_code == 302
    assert response["Location"] == change_url
    refund = attempt.refunds.get(number=2)
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount == money("100.00", "CNY")
    assert refund.reason == "overcharged"
    assert any("RF" in text and "Refunded" in text for text in texts(response))


def test_refund_form_shows_the_service_refusal_and_writes_nothing(admin_client, collection_data):
    attempt = collection_data["attempt"]
    url = reverse("admin:payments_paymentattempt_refund_attempt", args=(attempt.pk,))
    response = admin_client.post(url, {"amount": "5000.00", "reason": "too much"})
    assert response.status_code == 200
    assert "can still be refunded" in " ".join(response.context["form"].errors["amount"])
    assert attempt.refunds.count() == 1


def test_refund_is_refused_for_an_unsuccessful_attempt_or_without_permission(
    admin_client, client, collection_data, django_user_model
):
    failed_attempt = collection_data["failed"].attempts.get()
    url = reverse("admin:payments_paymentattempt_refund_attempt", args=(failed_attempt.pk,))
    assert admin_client.get(url).status_code == 403

    viewer = staff(django_user_model, "viewer", "view_paymentattempt")
    client = logged_in(client, viewer)
    attempt = collection_data["attempt"]
    change_url = reverse("admin:payments_paymentattempt_change", args=(attempt.pk,))
    refund_url = reverse("admin:payments_paymentattempt_refund_attempt", args=(attempt.pk,))
    assert client.get(change_url).status_code == 200
    assert refund_url not in client.get(change_url).content.decode()
    assert client.post(refund_url, {"amount": "1.00", "reason": "x"}).status_code == 403
    assert attempt.refunds.count() == 1


def test_confirm_manual_transfer_books_the_refund_and_reports_refusals(
    admin_client, collection_data
):
    refund = collection_data["refund"]
    response = run_action(admin_client, "payments_refund", "confirm_manual_transfer", [refund])
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert "1 refund confirmed." in texts(response)

    response = run_action(admin_client, "payments_refund", "confirm_manual_transfer", [refund])
    assert any("Only a refund awaiting a manual transfer" in t for t in texts(response))


def test_send_again_is_refused_for_a_refund_no_longer_in_progress(admin_client, collection_data):
    refund = collection_data["refund"]  # awaiting a manual transfer, not in progress
    response = run_action(admin_client, "payments_refund", "send_again", [refund])
    assert any("Only a refund still in progress" in t for t in texts(response))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.MANUAL


# --- Charges: retry, cancel, write-off -------------------------------------------------


def test_retry_now_makes_the_charge_due_and_hands_it_to_a_worker_after_commit(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    failed = collected("3000.51", Outcome.FAILED)
    paid = collected("3000.00", Outcome.PAID)
    handed = []
    monkeypatch.setattr(collect_charge_task, "delay", lambda *args: handed.append(args))
    later = DAY + dt.timedelta(days=1)
    with at(later), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = run_action(admin_client, "billing_charge", "retry_now", [failed, paid])
    assert response.status_code == 302
    assert handed == [(failed.pk, True)]
    assert len(callbacks) == 1
    failed.refresh_from_db()
    assert failed.next_attempt_on == later
    messages = texts(response)
    assert "1 charge handed over for collection now." in messages
    assert any("nothing left to collect" in text for text in messages)


def test_cancel_calls_the_service(admin_client):
    failed = collected("3000.51", Outcome.FAILED)
    with at(DAY):
        response = run_action(admin_client, "billing_charge", "cancel_charges", [failed])
    failed.refresh_from_db()
    assert failed.status == ChargeStatus.CANCELLED
    assert "1 charge cancelled." in texts(response)


def test_charge_page_shows_its_attempts_and_next_step(admin_client):
    failed = collected("3000.51", Outcome.FAILED)
    response = admin_client.get(reverse("admin:billing_charge_change", args=(failed.pk,)))
    page = response.content.decode()
    assert failed.attempts.get().idempotency_key in page
    assert "next collection step" in page.lower()
    changelist = admin_client.get(reverse("admin:billing_charge_changelist")).content.decode()
    assert "next collection step" in changelist.lower()


def test_viewing_a_charge_writes_nothing(client, admin_user):
    """Rendering the outstanding amount reads the ledger; a customer with no ledger
    account yet (a charge billed before it had one) gets none created by a page view."""
    from contracts.services import contract_sign
    from contracts.tests.factories import make_contract
    from ledger.models import Account

    with at(DAY):
        contract = contract_sign(
            contract=make_contract(service_start=DAY), signed_on=DAY, bill_now=False
        )
    charge = Charge.objects.create(
        contract=contract,
        fee=contract.fees.get(),
        kind="recurring",
        period_start=DAY,
        period_end=DAY + dt.timedelta(days=30),
        due_date=DAY,
        amount=money("3000.00", "CNY"),
    )
    assert not Account.objects.filter(customer=contract.customer).exists()
    client.force_login(admin_user)
    url = reverse("admin:billing_charge_change", args=(charge.pk,))

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []
    assert not Account.objects.filter(customer=contract.customer).exists()


def test_request_write_off_asks_for_a_reason_then_calls_the_service(admin_client, admin_user):
    failed = collected("3000.51", Outcome.FAILED)
    response = run_action(admin_client, "billing_charge", "request_write_off", [failed])
    assert response.status_code == 200
    assert "text" in response.context["form"].fields
    assert not WriteOffRequest.objects.exists()

    response = run_action(
        admin_client, "billing_charge", "request_write_off", [failed], apply="1", text=""
    )
    assert response.status_code == 200  # the reason is required
    assert not WriteOffRequest.objects.exists()

    with at(DAY):
        response = run_action(
            admin_client,
            "billing_charge",
            "request_write_off",
            [failed],
            apply="1",
            text="customer insolvent",
        )
    assert response.status_code == 302
    request = WriteOffRequest.objects.get()
    assert (request.charge_id, request.requested_by, request.reason) == (
        failed.pk,
        admin_user,
        "customer insolvent",
    )
    assert request.amount == money("3000.51", "CNY")
    assert "1 write-off requested." in texts(response)


def approve(client, write_off, note=""):
    with at(DAY):
        return run_action(
            client,
            "payments_writeoffrequest",
            "approve_requests",
            [write_off],
            apply="1",
            text=note,
        )


def test_the_requester_cannot_approve_their_own_write_off(admin_client, collection_data):
    write_off = collection_data["write_off"]
    response = approve(admin_client, write_off)
    assert any("someone other than its requester" in text for text in texts(response))
    write_off.refresh_from_db()
    assert write_off.status == ApprovalStatus.REQUESTED
    assert collection_data["failed"].status == ChargeStatus.FAILED


def test_a_manager_approves_and_the_charge_is_written_off(client, collection_data, manager):
    write_off = collection_data["write_off"]
    response = approve(logged_in(client, manager), write_off, note="agreed")
    assert "1 write-off approved." in texts(response)
    write_off.refresh_from_db()
    assert (write_off.status, write_off.decided_by, write_off.decision_note) == (
        ApprovalStatus.APPROVED,
        manager,
        "agreed",
    )
    charge = collection_data["failed"]
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.WRITTEN_OFF


def test_a_clerk_without_the_approve_permission_cannot_approve(client, collection_data, clerk):
    write_off = collection_data["write_off"]
    response = approve(logged_in(client, clerk), write_off)
    assert any("not allowed to approve write-offs" in text for text in texts(response))
    write_off.refresh_from_db()
    assert write_off.status == ApprovalStatus.REQUESTED
    charge = collection_data["failed"]
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED


def test_a_manager_rejects_and_collection_goes_on(client, collection_data, manager):
    write_off = collection_data["write_off"]
    with at(DAY):
        response = run_action(
            logged_in(client, manager),
            "payments_writeoffrequest",
            "reject_requests",
            [write_off],
            apply="1",
            text="try again",
        )
    assert "1 write-off rejected." in texts(response)
    write_off.refresh_from_db()
    assert write_off.status == ApprovalStatus.REJECTED
    charge = collection_data["failed"]
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED


# --- Mandates -------------------------------------------------------------------------


def mandate_form(customer, **overrides):
    return {
        "customer": str(customer.pk),
        "reference": "MNDT-NEW-1",
        "signed_on": "2026-03-01",
        "valid_until": "",
        "limit_0": "",
        "limit_1": "CNY",
        "debtor_name": "Li Si",
        "debtor_iban": VALID_IBAN,
        "debtor_bic": "COBADEFFXXX",
        "status": MandateStatus.ACTIVE,
        "attempts-TOTAL_FORMS": "0",
        "attempts-INITIAL_FORMS": "0",
        "attempts-MIN_NUM_FORMS": "0",
        "attempts-MAX_NUM_FORMS": "0",
        **overrides,
    }


def test_mandate_form_validates_the_iban(admin_client):
    customer = CustomerFactory()
    url = reverse("admin:payments_mandate_add")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, mandate_form(customer, debtor_iban="DE00 1234 5678"))
    assert response.status_code == 200
    assert "debtor_iban" in response.context["adminform"].form.errors
    assert not Mandate.objects.exists()

    response = admin_client.post(url, mandate_form(customer))
    assert response.status_code == 302, response.context["adminform"].form.errors
    mandate = Mandate.objects.get()
    assert mandate.debtor_iban == "DE89370400440532013000"
    assert mandate.customer == customer


def test_revoke_sets_the_status_and_time(admin_client, collection_data):
    mandate = collection_data["mandate"]
    response = run_action(admin_client, "payments_mandate", "revoke_mandates", [mandate])
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.REVOKED
    assert mandate.revoked_at is not None
    assert "1 mandate revoked." in texts(response)


# --- Direct debit batches --------------------------------------------------------------


def test_pain008_download_is_the_document_as_an_attachment(admin_client, collection_data):
    batch = collection_data["batch"]
    url = reverse("admin:payments_directdebitbatch_download_document", args=(batch.pk,))
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response["Content-Disposition"] == 'attachment; filename="MSG-20260302-01.xml"'
    assert response.content.decode() == PAIN008


def test_notification_page_keeps_signatures_out(admin_client, collection_data):
    notification = collection_data["notification"]
    page = admin_client.get(
        reverse("admin:payments_inboundnotification_change", args=(notification.pk,))
    ).content.decode()
    assert "trade_no" in page
    assert "secret-signature" not in page


# --- Customer balances -----------------------------------------------------------------


def test_customer_page_shows_ledger_balances(admin_client):
    failed = collected("3000.51", Outcome.FAILED)
    customer = failed.contract.customer
    page = admin_client.get(
        reverse("admin:contracts_customer_change", args=(customer.pk,))
    ).content.decode()
    assert "Receivable" in page
    assert "Prepaid balance" in page
    assert "Deposit held" in page
    assert "3,000.51" in page or "3000.51" in page


def test_customer_list_shows_balance_due_in_one_query_for_the_page(admin_client):
    url = reverse("admin:contracts_customer_changelist")
    failed = collected("3000.51", Outcome.FAILED)
    response = admin_client.get(url)
    rows = {c.pk: c for c in response.context["cl"].result_list}
    assert [str(m.amount) for m in rows[failed.contract.customer_id]._balance_due] == ["3000.51"]
    with CaptureQueriesContext(connection) as one_customer:
        admin_client.get(url)
    collected("3000.51", Outcome.FAILED)
    collected("3000.00", Outcome.PAID)
    with CaptureQueriesContext(connection) as three_customers:
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == 3
    assert len(three_customers) == len(one_customer)


def test_customer_add_page_has_no_balances(admin_client):
    response = admin_client.get(reverse("admin:contracts_customer_add"))
    assert response.status_code == 200
    assert "ledger-balances" not in response.content.decode()


def test_collection_pages_render_in_chinese(admin_client, collection_data, zh_hans):
    for name, obj in (
        ("payments_paymentattempt", collection_data["attempt"]),
        ("billing_charge", collection_data["failed"]),
        ("contracts_customer", collection_data["paid"].contract.customer),
    ):
        assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:{name}_change", args=(obj.pk,))).status_code == 200
