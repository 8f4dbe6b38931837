"""Releasing a deposit when its contract ends: the deposit pays what the customer
still owes and the rest is refunded, asked by one user and approved by another —
through the services, and in the admin (a page that shows what the release does,
then the list's approve action)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction

from alerts.choices import AlertKind, AlertStatus
from alerts.models import Alert
from billing.choices import ChargeStatus
from billing.models import Charge
from contracts.choices import ContractStatus
from contracts.services import FeeInput, contract_terminate, contracts_advance_status
from contracts.tests.factories import make_contract, monthly
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from ledger.selectors import balances_for_customer, unbalanced_entries
from payments.choices import ApprovalStatus, RefundSource, RefundStatus
from payments.models import DepositRelease, Refund
from payments.services.bank_transfer import bank_transfer_receive
from payments.services.collection import Outcome, charge_collect, outstanding
from payments.services.deposits import (
    deposit_release_approve,
    deposit_release_reject,
    deposit_release_request,
    deposits_find_unreleased,
)
from payments.services.refunds import refund_confirm_manual
from payments.tests.collection_helpers import DAY
from tests.clock import at

pytestmark = pytest.mark.django_db

END = DAY + dt.timedelta(days=14)


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user("clerk", is_staff=True)


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("manager", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="approve_depositrelease"))
    return django_user_model.objects.get(pk=user.pk)


def pay(charge, amount, line):
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY, force=True) == Outcome.PENDING
    attempt = charge.attempts.order_by("-number").first()
    with at(DAY):
        bank_transfer_receive(
            reference=attempt.provider_reference,
            amount=money(amount, "CNY"),
            booked_on=DAY,
            line_reference=line,
        )


@pytest.fixture
def ended():
    """A contract whose 5000.00 deposit was paid, terminated with its first month
    (3000.00, now cut to the end date) still unpaid."""
    with at(DAY):
        contract = make_contract(
            service_start=DAY,
            signed_on=DAY,
            alignment="anniversary",
            payment_method="bank_transfer",
            fees=[FeeInput(kind="signing", amount="5000.00", treatment="deposit"), monthly()],
        )
    deposit = Charge.objects.get(contract=contract, fee__kind="signing")
    pay(deposit, "5000.00", "statement-line:deposit")
    with at(END):
        contract = contract_terminate(contract=contract, end_date=END)
    month = Charge.objects.get(contract=contract, fee__kind="recurring")
    return contract, deposit, month


def held(contract):
    balances = balances_for_customer(customer_id=contract.customer_id, currency="CNY")
    return balances[AccountPurpose.DEPOSIT_HELD]


def test_termination_raises_the_alert_to_release_the_deposit(ended):
    contract, _deposit, _month = ended
    alert = Alert.objects.get(kind=AlertKind.DEPOSIT_HELD)
    assert alert.subject == f"contract:{contract.pk}" and "5000.00" in alert.message


def test_the_deposit_pays_what_is_owed_and_the_rest_is_refunded_after_approval(
    ended, clerk, manager, django_capture_on_commit_callbacks
):
    contract, deposit, month = ended
    owed = outstanding(month)
    assert owed.amount > 0

    with at(END):
        asked = deposit_release_request(contract=contract, requested_by=clerk, reason="合同终止")
    assert asked.plan == [{"charge": month.pk, "amount": str(owed.amount)}]
    assert (asked.held, asked.applied) == (money("5000.00", "CNY"), owed)
    assert asked.refunded == money("5000.00", "CNY") - owed
    # nothing is booked before the approval
    assert not JournalEntry.objects.filter(kind=EntryKind.DEPOSIT_APPLIED).exists()

    with pytest.raises(BusinessError), at(END):
        deposit_release_approve(release=asked, approved_by=clerk)
    with at(END), django_capture_on_commit_callbacks(execute=True):
        done = deposit_release_approve(release=asked, approved_by=manager, note="同意")

    month.refresh_from_db()
    assert done.status == ApprovalStatus.APPROVED and done.decided_by == manager
    assert month.status == ChargeStatus.PAID
    refund = Refund.objects.get()
    assert (refund.attempt, refund.source) == (deposit.attempts.get(), RefundSource.PAYMENT)
    assert refund.amount == asked.refunded and refund.status == RefundStatus.MANUAL
    assert list(done.refunds.all()) == [refund]
    assert Alert.objects.get(kind=AlertKind.DEPOSIT_HELD).status == AlertStatus.RESOLVED
    with at(END):
        refund_confirm_manual(refund=refund)
    assert held(contract) == money("0.00", "CNY")
    assert unbalanced_entries() == []


def test_a_deposit_smaller_than_the_debt_pays_part_and_nothing_is_refunded(clerk, manager):
    with at(DAY):
        contract = make_contract(
            service_start=DAY,
            signed_on=DAY,
            alignment="anniversary",
            payment_method="bank_transfer",
            fees=[FeeInput(kind="signing", amount="1000.00", treatment="deposit"), monthly()],
        )
    pay(Charge.objects.get(contract=contract, fee__kind="signing"), "1000.00", "line:d")
    with at(END):
        contract_terminate(contract=contract, end_date=END)
    month = Charge.objects.get(contract=contract, fee__kind="recurring")
    owed = outstanding(month)
    with at(END):
        asked = deposit_release_request(contract=contract, requested_by=clerk, reason="终止")
        deposit_release_approve(release=asked, approved_by=manager)

    month.refresh_from_db()
    assert asked.refunded == money("0.00", "CNY") and not Refund.objects.exists()
    # it stays collectable for the rest, from today
    assert month.status == ChargeStatus.PENDING and month.next_attempt_on == END
    assert outstanding(month) == owed - money("1000.00", "CNY")
    assert held(contract) == money("0.00", "CNY")


def test_an_approval_is_refused_when_the_charges_changed_since_the_request(ended, clerk, manager):
    contract, _deposit, month = ended
    with at(END):
        asked = deposit_release_request(contract=contract, requested_by=clerk, reason="终止")
    pay(month, str(outstanding(month).amount), "statement-line:month")  # the customer paid

    with pytest.raises(BusinessError) as refused, at(END):
        deposit_release_approve(release=asked, approved_by=manager)

    assert "changed" in str(refused.value.detail["release"][0])
    asked.refresh_from_db()
    assert asked.status == ApprovalStatus.REQUESTED
    assert not JournalEntry.objects.filter(kind=EntryKind.DEPOSIT_APPLIED).exists()
    assert not Refund.objects.exists()
    with at(END):
        deposit_release_reject(release=asked, rejected_by=manager, note="重新申请")
        again = deposit_release_request(contract=contract, requested_by=clerk, reason="终止")
    assert again.plan == [] and again.refunded == money("5000.00", "CNY")


def test_a_release_is_asked_once_and_only_for_an_ended_contract(ended, clerk):
    contract, _deposit, _month = ended
    with at(DAY):
        running = make_contract(
            service_start=DAY,
            signed_on=DAY,
            fees=[FeeInput(kind="signing", amount="500.00", treatment="deposit")],
        )
    with pytest.raises(BusinessError), at(END):
        deposit_release_request(contract=running, requested_by=clerk, reason="x")
    with at(END):
        deposit_release_request(contract=contract, requested_by=clerk, reason="终止")
    with pytest.raises(BusinessError), at(END):
        deposit_release_request(contract=contract, requested_by=clerk, reason="再来")
    assert DepositRelease.objects.count() == 1


@pytest.mark.postgres
def test_the_database_refuses_a_release_decided_by_its_requester(ended, clerk):
    contract, _deposit, _month = ended
    with at(END):
        asked = deposit_release_request(contract=contract, requested_by=clerk, reason="终止")
    with pytest.raises(IntegrityError), transaction.atomic():
        DepositRelease.objects.filter(pk=asked.pk).update(decided_by=clerk)


def test_a_deposit_still_unpaid_at_termination_is_not_asked_for_any_more():
    with at(DAY):
        contract = make_contract(
            service_start=DAY,
            signed_on=DAY,
            alignment="anniversary",
            payment_method="bank_transfer",
            fees=[
                FeeInput(kind="signing", amount="5000.00", treatment="deposit"),
                FeeInput(kind="signing", amount="800.00", treatment="fee"),  # owed whatever
                monthly(),
            ],
        )
    deposit = Charge.objects.get(contract=contract, fee__treatment="deposit")
    with at(DAY):
        assert charge_collect(deposit.pk, on=DAY) == Outcome.PENDING  # its notice is out

    with at(END):
        contract_terminate(contract=contract, end_date=END)

    deposit.refresh_from_db()
    assert deposit.status == ChargeStatus.CANCELLED
    assert deposit.attempts.get().status == "cancelled"  # the notice is withdrawn
    fee = Charge.objects.get(contract=contract, fee__kind="signing", fee__treatment="fee")
    assert fee.status == ChargeStatus.PENDING  # still owed
    assert not Alert.objects.filter(kind=AlertKind.DEPOSIT_HELD).exists()


def test_the_daily_check_finds_contracts_that_ran_out_with_their_deposit():
    with at(DAY):
        contract = make_contract(
            service_start=DAY,
            service_end=END,
            signed_on=DAY,
            payment_method="bank_transfer",
            fees=[FeeInput(kind="signing", amount="800.00", treatment="deposit")],
        )
    pay(Charge.objects.get(contract=contract), "800.00", "line:d")
    later = END + dt.timedelta(days=1)
    assert deposits_find_unreleased() == 0  # still running
    contracts_advance_status(on=later)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDED

    with at(later):
        assert deposits_find_unreleased() == 1
        assert deposits_find_unreleased() == 1  # the same alert, not a second

    assert Alert.objects.filter(kind=AlertKind.DEPOSIT_HELD).count() == 1


# --- In the admin ---------------------------------------------------------------------

ASK_URL = "/admin/payments/depositrelease/ask/"
LIST_URL = "/admin/payments/depositrelease/"


@pytest.fixture
def clerk_client(client, clerk):
    from django.contrib.auth.models import Permission

    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_depositrelease", "view_depositrelease"])
    )
    client.force_login(clerk)
    return client


def test_the_ask_page_shows_the_plan_then_asks(clerk_client, ended):
    contract, _deposit, month = ended
    form = {"contract": contract.number, "reason": "合同终止"}

    with at(END):
        shown = clerk_client.post(ASK_URL, form)
    page = shown.content.decode()
    assert shown.status_code == 200 and 'id="deposit-plan"' in page
    assert "5,000.00" in page or "5000.00" in page
    assert not DepositRelease.objects.exists()  # only shown

    with at(END):
        asked = clerk_client.post(ASK_URL, {**form, "confirm": "1"})
    release = DepositRelease.objects.get()
    assert asked.status_code == 302 and str(release.pk) in asked["Location"]
    assert release.plan == [{"charge": month.pk, "amount": "3000.00"}]


def test_an_unknown_contract_number_is_a_field_error(clerk_client):
    response = clerk_client.post(ASK_URL, {"contract": "HT-NOPE", "reason": "x"})
    assert response.status_code == 200 and "HT-NOPE" in response.content.decode()
    assert not DepositRelease.objects.exists()


def test_the_ask_page_needs_the_add_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    client.force_login(user)
    assert client.get(ASK_URL).status_code in (302, 403)


def test_a_manager_approves_from_the_list(client, ended, clerk, manager):
    from django.contrib.auth.models import Permission

    from payments.services.deposits import deposit_release_request

    contract, _deposit, month = ended
    with at(END):
        release = deposit_release_request(contract=contract, requested_by=clerk, reason="终止")
    manager.user_permissions.add(Permission.objects.get(codename="view_depositrelease"))
    client.force_login(manager)

    with at(END):
        client.post(
            LIST_URL,
            {
                "action": "approve_releases",
                "_selected_action": [release.pk],
                "apply": "1",
                "text": "同意",
            },
        )

    release.refresh_from_db()
    month.refresh_from_db()
    assert release.status == ApprovalStatus.APPROVED and month.status == ChargeStatus.PAID
