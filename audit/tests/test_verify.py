"""audit_verify: an intact chain says so in one line; any change made behind the
application's back — an event's bytes, a row a bulk event covers, a missing event —
is named by the sequence where the chain breaks."""

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from audit.services import audit_record_bulk
from audit.verification import audit_chain_verify, register_check, unregister_check

from .support import raw, record_events, run_verify, triggers_bypassed

transactional = pytest.mark.django_db(transaction=True)


@pytest.mark.django_db
def test_an_intact_chain_is_one_line_and_exit_0():
    events = record_events(5)
    status, out, err = run_verify()
    assert status == 0 and not err
    assert out == f"audit chain intact: 5 events, head 5 {events[-1].hash}\n"


@pytest.mark.django_db
def test_an_empty_chain_is_intact():
    assert run_verify()[1] == f"audit chain intact: 0 events, head 0 {'0' * 64}\n"


@pytest.mark.postgres
@transactional
def test_one_changed_byte_in_an_event_is_named():
    record_events(20)
    with triggers_bypassed():
        raw(
            "UPDATE audit_auditevent SET changes = replace(changes::text, '新', '亲')::jsonb "
            "WHERE sequence = 13"
        )
    status, _, err = run_verify()
    assert status == 1
    assert "audit chain broken at event 13: hash does not match its contents" in err
    assert "event 14" not in err  # the links still hold: only 13 is wrong
    result = audit_chain_verify()
    assert (result.ok, result.first_broken, result.count) == (False, 13, 20)


@pytest.mark.postgres
@transactional
def test_a_changed_actor_is_named():
    record_events(20)
    with triggers_bypassed():
        raw("UPDATE audit_auditevent SET actor = actor || ' ' WHERE sequence = 4")
    status, _, err = run_verify()
    assert status == 1
    assert "audit chain broken at event 4: hash does not match its contents" in err


@pytest.mark.postgres
@transactional
def test_a_deleted_event_is_a_gap_at_its_sequence():
    record_events(20)
    with triggers_bypassed():
        raw("DELETE FROM audit_auditevent WHERE sequence = 17")
    status, _, err = run_verify()
    assert status == 1
    assert "audit chain broken at event 17: sequence gap after 16" in err
    assert "audit chain broken at event 18: prev_hash does not link to event 16" in err
    assert audit_chain_verify().first_broken == 17


@pytest.mark.postgres
@transactional
def test_a_rewritten_tail_is_caught_by_the_anchored_head():
    """Whoever can bypass the triggers can also recompute hashes; the head anchored
    outside the database (the daily e-mail) is what catches that."""
    events = record_events(10)
    anchored = f"{events[6].sequence}:{events[6].hash}"
    with triggers_bypassed():
        raw("DELETE FROM audit_auditevent WHERE sequence >= 6")
    assert run_verify()[0] == 0  # a cut chain is internally consistent
    status, _, err = run_verify("--expect-head", anchored)
    assert status == 1
    assert "audit chain broken at event 7: the anchored event is missing" in err
    assert run_verify("--expect-head", f"5:{events[4].hash}")[0] == 0


def make_bulk_event(count=10):
    groups = [Group.objects.create(name=f"客户组 {n}") for n in range(count)]
    event = audit_record_bulk(
        action="billing.chunk", model=Group, ids=[g.pk for g in groups], fields=["name"]
    )
    return groups, event


@pytest.mark.postgres
@transactional
def test_a_row_changed_under_a_bulk_event_is_named():
    record_events(3)
    groups, event = make_bulk_event()
    record_events(2)
    for group in (groups[2], groups[7]):
        Group.objects.filter(pk=group.pk).update(name=f"{group.name}!")  # one character more
    status, _, err = run_verify()
    assert status == 1
    assert (
        f"audit chain broken at event {event.sequence}: bulk digest differs: auth.group rows "
        f"changed (ids {groups[2].pk}, {groups[7].pk})"
    ) in err


@pytest.mark.django_db
def test_bulk_rows_changed_or_deleted_on_any_backend():
    groups, event = make_bulk_event(4)
    Group.objects.filter(pk=groups[1].pk).update(name="x")
    assert audit_chain_verify().problems[0].message == (
        f"bulk digest differs: auth.group rows changed (ids {groups[1].pk})"
    )
    Group.objects.filter(pk=groups[3].pk).delete()
    result = audit_chain_verify()
    assert str(result.problems[0]) == (
        f"audit chain broken at event {event.sequence}: bulk digest differs: "
        f"auth.group rows deleted (ids {groups[3].pk})"
    )


@pytest.mark.django_db(transaction=True)
def test_tampering_is_found_on_any_backend():
    record_events(6)
    with triggers_bypassed():
        raw("UPDATE audit_auditevent SET object_id = '99' WHERE sequence = 2")
        raw("DELETE FROM audit_auditevent WHERE sequence = 5")
    result = audit_chain_verify()
    assert [(p.sequence, p.message) for p in result.problems] == [
        (2, "hash does not match its contents"),
        (5, "sequence gap after 4"),
        (6, "prev_hash does not link to event 4"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_missing_first_event_is_named():
    record_events(3)
    with triggers_bypassed():
        raw("DELETE FROM audit_auditevent WHERE sequence = 1")
    assert [(p.sequence, p.message) for p in audit_chain_verify().problems] == [
        (1, "the chain starts at event 2"),
        (2, "prev_hash does not link to the start of the chain"),
    ]


@pytest.mark.django_db
def test_registered_checks_are_run_and_reported():
    record_events(2)
    register_check("journal balances", lambda: ["entry 3 does not balance"])
    register_check("fine", lambda: [])
    try:
        status, _, err = run_verify()
    finally:
        unregister_check("journal balances")
        unregister_check("fine")
    assert status == 1
    assert "check journal balances: entry 3 does not balance" in err
    assert run_verify()[0] == 0


@pytest.mark.django_db
def test_a_check_that_crashes_is_a_problem_not_a_crash():
    def broken():
        raise RuntimeError("no ledger")

    register_check("crashes", broken)
    try:
        result = audit_chain_verify()
    finally:
        unregister_check("crashes")
    assert [str(p) for p in result.problems] == ["check crashes: the check failed: no ledger"]


@pytest.mark.django_db
def test_verification_streams_the_chain(monkeypatch):
    from audit import verification

    monkeypatch.setattr(verification, "CHUNK_SIZE", 7)
    record_events(30)
    seen = []
    original = AuditEvent.compute_hash

    def spy(self):
        seen.append(self.sequence)
        return original(self)

    monkeypatch.setattr(AuditEvent, "compute_hash", spy)
    assert audit_chain_verify().ok
    assert seen == list(range(1, 31))
