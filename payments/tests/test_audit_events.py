"""Attempt and refund state machines, and the audit events collection records:
every status change of a charge, an attempt or a refund, write-off decisions and
mandates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from audit.models import AuditEvent
from audit.verification import audit_chain_verify
from billing.choices import ChargeStatus
from feemgmt.core.exceptions import InvalidTransition
from feemgmt.core.money import money
from payments.adapters import CollectionResult
from payments.choices import (
    ATTEMPT_TRANSITIONS,
    REFUND_TRANSITIONS,
    AttemptStatus,
    MandateStatus,
    RefundStatus,
)
from payments.models import Mandate, PaymentAttempt, Refund
from payments.services.attempts import attempt_fail, attempt_succeed
from payments.services.collection import Outcome, charge_collect
from payments.services.direct_debit import (
    direct_debit_batches_create,
    direct_debit_report_import,
)
from payments.services.mandates import mandate_save, mandates_revoke
from payments.services.refunds import payment_refund, refund_confirm_manual
from payments.services.staff import (
    charge_cancel,
    write_off_approve,
    write_off_reject,
    write_off_request,
)
from payments.tests.collection_helpers import DAY, billed_charge
from payments.tests.fakes.auto_debit import DEBTOR_IBAN, camt054_for
from payments.tests.test_direct_debit import debit_charge
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


OWN = ("charge.", "attempt.", "refund.", "write_off.", "mandate.")


def actions(since: int = 0) -> list[str]:
    """The actions of collection's events after ``since`` (other apps' left out)."""
    found = AuditEvent.objects.filter(sequence__gt=since).order_by("sequence")
    return [action for action in found.values_list("action", flat=True) if action.startswith(OWN)]


def head() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-sequence").first()


def test_the_tables_name_every_status():
    assert set(ATTEMPT_TRANSITIONS) == set(AttemptStatus.values)
    assert set(REFUND_TRANSITIONS) == set(RefundStatus.values)
    assert ATTEMPT_TRANSITIONS[AttemptStatus.RETURNED] == frozenset()
    assert REFUND_TRANSITIONS[RefundStatus.SUCCEEDED] == frozenset()


def test_collecting_a_charge_records_the_attempt_and_the_charge_paid():
    charge = billed_charge("3000.00")
    start = head()
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PAID

    assert actions(start) == ["attempt.created", "attempt.succeeded", "charge.paid"]
    attempt = charge.attempts.get()
    created, succeeded, paid = (
        event("attempt.created"),
        event("attempt.succeeded"),
        event("charge.paid"),
    )
    assert created.object_id == str(attempt.pk)
    assert created.changes["after"]["idempotency_key"] == attempt.idempotency_key
    assert created.changes["after"]["amount"] == "3000.00 CNY"
    assert succeeded.object_type == "payments.paymentattempt"
    assert succeeded.changes["status"] == ["unknown", "succeeded"]
    assert paid.object_type == "billing.charge" and paid.object_id == str(charge.pk)
    assert paid.changes == {
        "status": ["pending", "paid"],
        "next_attempt_on": [DAY.isoformat(), None],
    }
    assert audit_chain_verify().ok


def test_a_decline_records_the_attempt_failed_and_the_charge_failed():
    charge = billed_charge("3000.51")
    start = head()
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.FAILED
    assert actions(start) == ["attempt.created", "attempt.failed", "charge.failed"]
    assert event("attempt.failed").changes["error_code"][1]
    assert event("charge.failed").changes["status"] == ["pending", "failed"]

    # The retry re-opens collection: charge.resumed, then its attempt.
    start = head()
    retry_on = DAY + dt.timedelta(days=1)
    with at(retry_on):
        charge_collect(charge.pk, on=retry_on)
    assert actions(start)[:2] == ["charge.resumed", "attempt.created"]
    assert audit_chain_verify().ok


def test_a_forbidden_attempt_transition_is_refused_and_writes_nothing():
    charge = billed_charge("3000.00")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
    attempt = charge.attempts.get()
    start = head()
    with pytest.raises(InvalidTransition, match="Succeeded and cannot become Failed"):
        attempt_fail(attempt=attempt, result=CollectionResult(status="declined"))
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == AttemptStatus.SUCCEEDED
    assert head() == start


def test_a_returned_attempt_cannot_succeed_again():
    charge = billed_charge("3000.00")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
    attempt = charge.attempts.get()
    PaymentAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.RETURNED)
    start = head()
    with pytest.raises(InvalidTransition):
        attempt_succeed(attempt=attempt.pk)
    assert head() == start


def test_a_returned_debit_records_the_return_and_reopens_the_charge():
    charge = debit_charge()
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
        (batch,) = direct_debit_batches_create(on=DAY)
    key = charge.attempts.get().idempotency_key
    with at(DAY + dt.timedelta(days=2)):
        direct_debit_report_import(camt054_for(batch.document.encode()))
    start = head()
    returned_on = DAY + dt.timedelta(days=9)
    returns = camt054_for(
        batch.document.encode(), returns={key: "MD06"}, returned_on=returned_on, message_id="NTF-2"
    )
    with at(returned_on):
        direct_debit_report_import(returns)
        direct_debit_report_import(returns)  # a repeat records nothing more

    assert actions(start) == ["attempt.returned", "charge.reopened"]
    assert event("attempt.returned").changes["status"] == ["succeeded", "returned"]
    assert event("charge.reopened").changes["status"] == ["paid", "failed"]
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED
    assert audit_chain_verify().ok


def test_refunds_record_their_request_and_outcome(clerk):
    charge = billed_charge("3000.00")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
        start = head()
        refund = payment_refund(
            attempt=charge.attempts.get(),
            amount=money("100.00", "CNY"),
            reason="discount",
            requested_by=clerk,
        )
    assert refund.status == RefundStatus.SUCCEEDED
    assert actions(start) == ["refund.requested", "refund.succeeded"]
    requested = event("refund.requested")
    assert requested.changes["after"]["amount"] == "100.00 CNY"
    assert requested.actor.startswith("system:")  # no request here: the process
    assert event("refund.succeeded").changes["status"] == ["pending", "succeeded"]


def test_a_manual_refund_is_recorded_when_staff_confirm_it_and_only_once(clerk):
    from payments.services.collection import record_result

    charge = billed_charge("3000.00", method="bank_transfer")
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
        attempt = charge.attempts.get()
        record_result(attempt.pk, CollectionResult(status="succeeded", amount=attempt.amount))
        refund = payment_refund(
            attempt=attempt, amount=money("500.00", "CNY"), reason="overpaid", requested_by=clerk
        )
        assert event("refund.manual").changes["status"] == ["pending", "manual"]
        refund_confirm_manual(refund=refund)
        start = head()
        with pytest.raises(InvalidTransition):
            refund_confirm_manual(refund=refund)
    assert event("refund.succeeded").changes["status"] == ["manual", "succeeded"]
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED
    assert head() == start


def test_write_off_request_approval_and_rejection_are_recorded(clerk, manager):
    first, second = billed_charge("3000.51"), billed_charge("3000.51")
    with at(DAY):
        for charge in (first, second):
            charge_collect(charge.pk, on=DAY)
        start = head()
        approved = write_off_request(charge=first, requested_by=clerk, reason="insolvent")
        write_off_approve(request=approved, approved_by=manager, note="ok")
        rejected = write_off_request(charge=second, requested_by=clerk, reason="bad debt")
        write_off_reject(request=rejected, rejected_by=manager, note="keep trying")

    assert actions(start) == [
        "write_off.requested",
        "charge.written_off",
        "write_off.approved",
        "write_off.requested",
        "write_off.rejected",
    ]
    assert event("write_off.approved").changes["status"] == ["requested", "approved"]
    assert event("write_off.approved").changes["decided_by"] == [None, manager.pk]
    assert event("write_off.rejected").changes["decision_note"] == ["", "keep trying"]
    assert event("charge.written_off").changes["status"] == ["failed", "written_off"]
    assert audit_chain_verify().ok


def test_a_staff_cancel_withdraws_the_attempt_out_and_records_both():
    charge = billed_charge("3000.91")  # a payment left pending
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PENDING
        start = head()
        charge_cancel(charge=charge)
    assert actions(start) == ["attempt.cancelled", "charge.cancelled"]
    assert event("attempt.cancelled").changes["status"] == ["pending", "cancelled"]


def test_mandates_record_their_creation_and_revocation_with_the_account_masked():
    from contracts.tests.factories import CustomerFactory

    mandate = mandate_save(
        mandate=Mandate(
            customer=CustomerFactory(),
            reference="MNDT-1",
            signed_on=dt.date(2026, 1, 15),
            debtor_name="Li Si",
            debtor_iban=DEBTOR_IBAN,
        )
    )
    created = event("mandate.created")
    assert created.object_id == str(mandate.pk)
    assert created.changes["after"]["reference"] == "MNDT-1"
    assert created.changes["after"]["debtor_iban"] == f"{DEBTOR_IBAN[:4]}****{DEBTOR_IBAN[-4:]}"
    assert DEBTOR_IBAN not in str(created.changes)

    mandate.debtor_name = "Li Si (joint)"
    mandate_save(mandate=mandate)
    assert event("mandate.changed").changes == {"debtor_name": ["Li Si", "Li Si (joint)"]}

    assert mandates_revoke(Mandate.objects.all()) == 1
    assert mandates_revoke(Mandate.objects.all()) == 0
    (revoked,) = AuditEvent.objects.filter(action="mandate.revoked")
    assert revoked.changes["status"] == [MandateStatus.ACTIVE, MandateStatus.REVOKED]
    assert audit_chain_verify().ok
