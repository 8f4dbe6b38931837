"""Retry now, cancel, write-off with a second user's approval, and refunds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from billing.choices import ChargeStatus
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from feemgmt.core.money import Money, money
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from ledger.postings import post_prepayment
from ledger.selectors import unbalanced_entries
from payments.adapters.sandbox import GATEWAY
from payments.choices import ApprovalStatus, AttemptStatus, RefundStatus
from payments.services.collection import Outcome, charge_collect
from payments.services.refunds import payment_refund, refund_confirm_manual
from payments.services.staff import (
    charge_cancel,
    charge_retry_now,
    write_off_approve,
    write_off_reject,
    write_off_request,
)
from payments.tests.collection_helpers import DAY, billed_charge
from payments.tests.test_collection import balance, receivable_left
from tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user("clerk", password="x", is_staff=True)


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("manager", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="approve_writeoffrequest"))
    return user


def failed_charge(amount="3000.51"):
    charge = billed_charge(amount)
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.FAILED
    charge.refresh_from_db()
    return charge


def test_retry_now_collects_before_the_scheduled_date():
    charge = failed_charge()
    with at(DAY):
        charge = charge_retry_now(charge=charge)
        assert charge.next_attempt_on == DAY
        assert charge_collect(charge.pk, on=DAY) == Outcome.FAILED
    assert charge.attempts.count() == 2


def test_a_paid_charge_cannot_be_retried_cancelled_or_written_off(clerk):
    charge = billed_charge("3000.00")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
        for action in (
            lambda: charge_retry_now(charge=charge),
            lambda: charge_cancel(charge=charge),
            lambda: write_off_request(charge=charge, requested_by=clerk, reason="bad debt"),
        ):
            with pytest.raises(InvalidTransition):
                action()


def test_cancel_gives_the_prepaid_part_back_and_reverses_the_receivable():
    charge = billed_charge("3000.51")
    post_prepayment(
        customer_id=charge.contract.customer_id,
        amount=money("1000.00", "CNY"),
        method="bank_transfer",
        reference="TOPUP",
        on=DAY,
    )
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.FAILED  # 1000 prepaid, 2000.51 declined
        assert -balance(charge, AccountPurpose.PREPAID) == money("0.00", "CNY")
        charge = charge_cancel(charge=charge)

    assert charge.status == ChargeStatus.CANCELLED and charge.next_attempt_on is None
    assert -balance(charge, AccountPurpose.PREPAID) == money("1000.00", "CNY")
    assert receivable_left(charge) == money("0.00", "CNY")
    assert unbalanced_entries() == []
    with at(DAY + dt.timedelta(days=1)):
        assert charge_collect(charge.pk) == Outcome.NOT_DUE


def test_cancel_waits_for_an_unknown_outcome():
    charge = billed_charge("3000.61")  # timeout: unknown
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.UNKNOWN
        with pytest.raises(InvalidTransition, match="unknown outcome"):
            charge_cancel(charge=charge)


def test_a_write_off_needs_another_users_approval(clerk, manager):
    charge = failed_charge()
    with at(DAY):
        request = write_off_request(charge=charge, requested_by=clerk, reason="customer insolvent")
        assert request.amount == money("3000.51", "CNY")
        with pytest.raises(BusinessError, match="already awaiting"):
            write_off_request(charge=charge, requested_by=clerk, reason="again")
        with pytest.raises(BusinessError, match="someone other"):
            write_off_approve(request=request, approved_by=clerk)
        charge.refresh_from_db()
        assert charge.status == ChargeStatus.FAILED  # nothing happened yet

        write_off_approve(request=request, approved_by=manager, note="ok")

    request.refresh_from_db()
    charge.refresh_from_db()
    assert request.status == ApprovalStatus.APPROVED and request.decided_by == manager
    assert charge.status == ChargeStatus.WRITTEN_OFF and charge.next_attempt_on is None
    assert receivable_left(charge) == money("0.00", "CNY")
    assert JournalEntry.objects.filter(kind=EntryKind.WRITE_OFF).count() == 1
    with pytest.raises(InvalidTransition):
        write_off_approve(request=request, approved_by=manager)


def test_an_approver_needs_the_permission(clerk, django_user_model):
    other = django_user_model.objects.create_user("other", password="x", is_staff=True)
    charge = failed_charge()
    with at(DAY):
        request = write_off_request(charge=charge, requested_by=clerk, reason="bad debt")
        with pytest.raises(BusinessError, match="not allowed"):
            write_off_approve(request=request, approved_by=other)


def test_a_rejected_write_off_leaves_the_charge_collectable(clerk, manager):
    charge = failed_charge()
    with at(DAY):
        request = write_off_request(charge=charge, requested_by=clerk, reason="bad debt")
        request = write_off_reject(request=request, rejected_by=manager, note="keep trying")
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED
    assert request.status == ApprovalStatus.REJECTED


def test_refunds_never_exceed_what_was_collected(clerk):
    charge = billed_charge("3000.00")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
        attempt = charge.attempts.get()
        first = payment_refund(
            attempt=attempt, amount=money("1000.00", "CNY"), reason="discount", requested_by=clerk
        )
        assert first.status == RefundStatus.SUCCEEDED
        with pytest.raises(BusinessError, match=r"At most .*2,?000\.00 "):
            payment_refund(
                attempt=attempt, amount=money("2000.01", "CNY"), reason="x", requested_by=clerk
            )
        second = payment_refund(
            attempt=attempt, amount=money("2000.00", "CNY"), reason="closed", requested_by=clerk
        )
    assert second.status == RefundStatus.SUCCEEDED
    assert first.idempotency_key != second.idempotency_key
    assert balance(charge, AccountPurpose.CLEARING, "sandbox") == money("0.00", "CNY")
    assert JournalEntry.objects.filter(kind=EntryKind.REFUND).count() == 2
    assert unbalanced_entries() == []
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert GATEWAY.payment(attempt.idempotency_key).refunded == money("3000.00", "CNY")


def test_a_bank_transfer_refund_is_booked_when_staff_confirm_the_transfer(clerk):
    from payments.adapters import CollectionResult
    from payments.services.collection import record_result

    charge = billed_charge("3000.00", method="bank_transfer")
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PENDING
        attempt = charge.attempts.get()
        record_result(
            attempt.pk,
            CollectionResult(status="succeeded", amount=attempt.amount),
            on=DAY,
        )
        refund = payment_refund(
            attempt=attempt, amount=money("500.00", "CNY"), reason="overpaid", requested_by=clerk
        )
        assert refund.status == RefundStatus.MANUAL
        assert not JournalEntry.objects.filter(kind=EntryKind.REFUND).exists()
        refund = refund_confirm_manual(refund=refund)
    assert refund.status == RefundStatus.SUCCEEDED
    assert balance(charge, AccountPurpose.CLEARING, "bank_transfer") == money("2500.00", "CNY")


def test_a_refund_in_fractions_of_a_cent_is_refused_and_nothing_is_written(clerk):
    from payments.models import Refund

    charge = billed_charge("3000.00")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
        with pytest.raises(BusinessError, match="minor units"):
            payment_refund(
                attempt=charge.attempts.get(),
                amount=Money(Decimal("10.005"), "CNY"),  # not rounded on the way in
                reason="x",
                requested_by=clerk,
            )
    assert not Refund.objects.exists()


def test_a_refund_left_in_progress_by_a_timeout_is_sent_again_and_refunded_once(clerk, monkeypatch):
    from payments.adapters import GatewayTimeout
    from payments.adapters.sandbox import SandboxAdapter
    from payments.services.refunds import refund_send

    charge = billed_charge("3000.00")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
        attempt = charge.attempts.get()
        real = SandboxAdapter.refund

        def refund_then_lose_the_answer(self, request):
            real(self, request)
            raise GatewayTimeout()

        monkeypatch.setattr(SandboxAdapter, "refund", refund_then_lose_the_answer)
        refund = payment_refund(
            attempt=attempt, amount=money("100.00", "CNY"), reason="discount", requested_by=clerk
        )
        assert refund.status == RefundStatus.PENDING and refund.error_code == "gateway_timeout"
        assert not JournalEntry.objects.filter(kind=EntryKind.REFUND).exists()

        monkeypatch.setattr(SandboxAdapter, "refund", real)
        refund = refund_send(refund=refund)
        with pytest.raises(InvalidTransition):
            refund_send(refund=refund)

    assert refund.status == RefundStatus.SUCCEEDED
    assert GATEWAY.payment(attempt.idempotency_key).refunded == money("100.00", "CNY")
    assert JournalEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
