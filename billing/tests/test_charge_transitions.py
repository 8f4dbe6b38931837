"""The charge state machine and what it records: one table, one service per
transition, an audit event per status change; the billing run's one event per chunk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from audit.verification import audit_chain_verify
from billing.choices import CHARGE_TRANSITIONS, ChargeStatus
from billing.models import Charge
from billing.services import (
    BULK_FIELDS,
    billing_run,
    charge_cancel,
    charge_fail,
    charge_mark_overdue,
    charge_reopen,
    charge_settle,
    charge_write_off,
)
from billing.tasks import billing_chunk_task
from contracts.services import contract_terminate
from contracts.tests.factories import make_contract
from feemgmt.core.exceptions import InvalidTransition
from tests.clock import at

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 1)


def events(action: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.order_by("sequence")
    return list(found.filter(action=action) if action else found)


def a_charge(status: str = ChargeStatus.PENDING) -> Charge:
    with at(DAY):
        contract = make_contract(service_start=DAY, signed_on=DAY, alignment="anniversary")
    charge = Charge.objects.filter(contract=contract).order_by("id").first()
    if status != ChargeStatus.PENDING:
        Charge.objects.filter(pk=charge.pk).update(status=status)
        charge.refresh_from_db()
    return charge


def test_the_table_names_every_status_and_only_statuses():
    assert set(CHARGE_TRANSITIONS) == set(ChargeStatus.values)
    for targets in CHARGE_TRANSITIONS.values():
        assert targets <= set(ChargeStatus.values)
    assert CHARGE_TRANSITIONS[ChargeStatus.CANCELLED] == frozenset()
    assert CHARGE_TRANSITIONS[ChargeStatus.WRITTEN_OFF] == frozenset()


def test_a_paid_charge_cannot_fail_and_nothing_is_written():
    charge = a_charge(ChargeStatus.PAID)
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidTransition, match="Paid and cannot become Failed"):
        charge_fail(charge=charge, next_attempt_on=DAY)
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID and charge.next_attempt_on == DAY
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("status", "service"),
    [
        (ChargeStatus.CANCELLED, charge_settle),
        (ChargeStatus.WRITTEN_OFF, charge_cancel),
        (ChargeStatus.PAID, charge_write_off),
        (ChargeStatus.PAID, charge_mark_overdue),
    ],
)
def test_forbidden_transitions_are_refused(status, service):
    charge = a_charge(status)
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidTransition):
        service(charge=charge.pk)
    assert Charge.objects.get(pk=charge.pk).status == status
    assert AuditEvent.objects.count() == before


def test_only_a_paid_charge_is_reopened():
    charge = a_charge(ChargeStatus.FAILED)
    with pytest.raises(InvalidTransition, match="only a paid charge"):
        charge_reopen(charge=charge, next_attempt_on=DAY)


def test_a_stale_instance_is_checked_against_the_row_as_it_is():
    charge = a_charge()
    Charge.objects.filter(pk=charge.pk).update(status=ChargeStatus.CANCELLED)
    with pytest.raises(InvalidTransition, match="Cancelled"):
        charge_settle(charge=charge)  # the instance still says pending


def test_each_transition_records_its_event_with_before_and_after():
    charge = a_charge()
    retry_on = DAY + dt.timedelta(days=1)
    charge_fail(charge=charge, next_attempt_on=retry_on)
    charge_settle(charge=charge.pk)
    charge_reopen(charge=charge, next_attempt_on=None)

    failed, paid, reopened = (
        events("charge.failed"),
        events("charge.paid"),
        events("charge.reopened"),
    )
    assert failed[0].object_type == "billing.charge" and failed[0].object_id == str(charge.pk)
    assert failed[0].changes == {
        "status": ["pending", "failed"],
        "next_attempt_on": [DAY.isoformat(), retry_on.isoformat()],
    }
    assert paid[0].changes == {
        "status": ["failed", "paid"],
        "next_attempt_on": [retry_on.isoformat(), None],
    }
    assert reopened[0].changes == {"status": ["paid", "overdue"]}
    assert Charge.objects.get(pk=charge.pk).status == ChargeStatus.OVERDUE
    assert audit_chain_verify().ok


def test_a_self_transition_moves_the_date_without_an_event():
    charge = a_charge(ChargeStatus.FAILED)
    charge_fail(charge=charge, next_attempt_on=DAY + dt.timedelta(days=3))
    assert Charge.objects.get(pk=charge.pk).next_attempt_on == DAY + dt.timedelta(days=3)
    assert events("charge.failed") == []


# --- The billing run -----------------------------------------------------------------


def contracts(count: int) -> None:
    with at(dt.date(2026, 1, 1)):
        for _ in range(count):
            make_contract(service_start=dt.date(2026, 2, 1), signed_on=dt.date(2026, 1, 1))


def test_a_billing_run_records_one_bulk_event_per_chunk_with_the_created_ids():
    contracts(5)
    with at(dt.date(2026, 3, 1)):
        call_command("bill", "--date", "2026-03-01", "--chunk-size", "2", verbosity=0)

    chunks = events("billing.chunk")
    assert len(chunks) == 3  # 5 fees, two per chunk
    ids = sorted(i for event in chunks for i in event.bulk["ids"])
    assert ids == sorted(Charge.objects.values_list("id", flat=True))
    for event in chunks:
        assert event.actor == "system:billing_run"
        assert event.bulk["model"] == "billing.charge"
        assert event.bulk["fields"] == list(BULK_FIELDS)
        assert event.changes["on"] == "2026-03-01"
        assert event.changes["charges"] == len(event.bulk["ids"])
        assert set(event.changes["totals"]) == {"CNY"}
    assert audit_chain_verify().ok


def test_a_chunk_that_creates_nothing_records_nothing():
    contracts(2)
    with at(dt.date(2026, 3, 1)):
        billing_run(on=dt.date(2026, 3, 1))
        count = AuditEvent.objects.filter(action="billing.chunk").count()
        billing_run(on=dt.date(2026, 3, 1))  # nothing left to bill
        billing_chunk_task(on="2026-03-01", first_id=1, last_id=10_000)
    assert AuditEvent.objects.filter(action="billing.chunk").count() == count


def test_the_chunk_task_records_as_the_billing_run():
    contracts(1)
    with at(dt.date(2026, 3, 1)):
        billing_chunk_task(on="2026-03-01", first_id=1, last_id=10_000)
    (event,) = events("billing.chunk")
    assert event.actor == "system:billing_run" and event.actor_user_id is None


def test_a_termination_records_each_charge_it_cuts_and_the_chain_still_verifies():
    with at(dt.date(2026, 1, 1)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 1), proration="daily"
        )
    with at(dt.date(2026, 3, 1)):
        billing_run(on=dt.date(2026, 3, 1))  # January, February, March
        contract_terminate(contract=contract, end_date=dt.date(2026, 2, 14))

    (cancelled,) = events("charge.cancelled")
    (repriced,) = events("charge.repriced")
    march = Charge.objects.get(contract=contract, period_start=dt.date(2026, 3, 1))
    february = Charge.objects.get(contract=contract, period_start=dt.date(2026, 2, 1))
    assert cancelled.object_id == str(march.pk)
    assert cancelled.changes["status"] == ["pending", "cancelled"]
    assert repriced.object_id == str(february.pk)
    assert repriced.changes["period_end"] == ["2026-02-28", "2026-02-14"]
    assert repriced.changes["amount"][1] == f"{february.amount.amount} CNY"
    # The chunk's digest covers only what never changes, so re-pricing is no tampering.
    assert audit_chain_verify().ok
