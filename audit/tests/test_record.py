"""Recording events: the chain grows one link at a time, values are stored so they
re-verify after a round trip through the database, and the event shares the
caller's transaction."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from audit.canonical import ZERO_HASH
from audit.context import actor_scope, resolve_actor
from audit.models import AuditEvent
from audit.selectors import chain_head, events_for
from audit.services import audit_record, audit_record_bulk, changes_between, snapshot
from audit.verification import audit_chain_verify
from feemgmt.core.money import money

pytestmark = pytest.mark.django_db


def test_events_chain_from_zeros():
    first = audit_record(action="contract.signed", object_type="contracts.contract", object_id=7)
    second = audit_record(action="charge.paid", object_type="billing.charge", object_id="12")
    assert (first.sequence, first.prev_hash) == (1, ZERO_HASH)
    assert (second.sequence, second.prev_hash) == (2, first.hash)
    assert len(second.hash) == 64 and int(second.hash, 16) >= 0
    assert first.object_id == "7"
    assert chain_head() == (2, second.hash)


def test_a_stored_event_re_verifies_after_reading_it_back():
    changes = {
        "名称": ["上海示例物业管理有限公司", "北京示例物业管理有限公司"],
        "amount": [Decimal("1200.10"), Decimal("99.00")],
        "fee": [None, money("1200.1", "CNY")],
        "terms": {"z": {"b": 2, "a": [1, "二"]}, "a": None},
    }
    event = audit_record(
        action="contract.amended",
        object_type="contracts.contract",
        changes=changes,
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.changes == {
        "名称": ["上海示例物业管理有限公司", "北京示例物业管理有限公司"],
        "amount": ["1200.10", "99.00"],
        "fee": [None, "1200.10 CNY"],
        "terms": {"a": None, "z": {"a": [1, "二"], "b": 2}},
    }
    assert stored.occurred_at == event.occurred_at
    assert stored.compute_hash() == event.hash == stored.hash
    assert audit_chain_verify().ok


def test_the_event_rolls_back_with_the_change():
    audit_record(action="kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="rolled back")
        audit_record(action="lost", obj=Group.objects.get(name="rolled back"))
        raise RuntimeError
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["kept"]
    assert audit_record(action="next").sequence == 2  # no gap left behind


def test_changes_between_and_snapshot():
    group = Group.objects.create(name="财务")
    before = snapshot(group, ["name"])
    group.name = "auditors"
    assert changes_between(before, snapshot(group, ["name"])) == {"name": ["财务", "auditors"]}
    assert changes_between({"a": Decimal("1.10"), "b": 1}, {"a": "1.10", "b": 1}) == {}
    assert changes_between({}, {"a": 1}) == {"a": [None, 1]}


def test_events_for_an_object_newest_first():
    group = Group.objects.create(name="g")
    audit_record(action="group.created", obj=group, changes={"after": snapshot(group, ["name"])})
    audit_record(action="other", object_type="auth.group", object_id=group.pk + 1)
    audit_record(action="group.renamed", obj=group)
    assert [e.action for e in events_for(group)] == ["group.renamed", "group.created"]
    assert events_for(group)[1].changes == {"after": {"name": "g"}}


def test_actor_comes_from_the_scope_or_names_the_process():
    with actor_scope("system:billing_run"):
        event = audit_record(action="billing.chunk")
    assert (event.actor, event.actor_user_id) == ("system:billing_run", None)
    assert resolve_actor()[0].startswith("system:")  # the program: system:pytest here
    assert audit_record(action="x", actor="system:import").actor == "system:import"


def test_bulk_event_carries_sorted_ids_and_a_digest():
    groups = [Group.objects.create(name=f"bulk {n}") for n in range(5)]
    ids = [g.pk for g in reversed(groups)]
    event = audit_record_bulk(
        action="billing.chunk",
        model=Group,
        ids=ids,
        fields=["name"],
        extra={"on": "2026-04-01", "total": Decimal("10.00")},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.bulk["model"] == "auth.group"
    assert stored.bulk["ids"] == sorted(ids)
    assert stored.bulk["fields"] == ["name"]
    assert len(stored.bulk["digest"]) == 64
    assert stored.changes == {"on": "2026-04-01", "total": "10.00"}
    assert stored.compute_hash() == stored.hash
    assert audit_chain_verify().ok


def test_bulk_event_refuses_rows_that_do_not_exist():
    with pytest.raises(ValueError, match="not found"):
        audit_record_bulk(action="x", model=Group, ids=[987654], fields=["name"])
    assert not AuditEvent.objects.exists()


def test_bulk_event_over_thousands_of_rows_reads_them_in_few_queries(
    django_assert_max_num_queries,
):
    names = [f"g{n}" for n in range(3000)]
    Group.objects.bulk_create([Group(name=name) for name in names])
    ids = list(Group.objects.filter(name__in=names).values_list("pk", flat=True))
    with django_assert_max_num_queries(6):
        event = audit_record_bulk(
            action="statement.imported", model=Group, ids=ids, fields=["name"]
        )
    assert len(event.bulk["ids"]) == 3000
    assert audit_chain_verify().ok


def test_an_objects_history_includes_the_bulk_event_that_created_it(admin_client):
    """A charge made by the billing run is named only in its chunk's bulk event;
    its history (selector and admin page) shows that event with its own."""
    from django.urls import reverse

    from audit.admin import history_url
    from billing.models import Charge
    from payments.tests.collection_helpers import billed_charge

    charge = billed_charge("3000.00")
    other = billed_charge("10.00")
    actions = [event.action for event in events_for(charge)]
    assert "billing.chunk" in actions
    chunk = next(e for e in events_for(charge) if e.action == "billing.chunk")
    assert charge.pk in chunk.bulk["ids"] and other.pk not in chunk.bulk["ids"]
    assert Charge.objects.count() == 2

    page = admin_client.get(history_url(charge))
    assert page.status_code == 200
    listed = {event.sequence for event in page.context["cl"].result_list}
    assert chunk.sequence in listed
    assert reverse("admin:audit_auditevent_changelist") in history_url(charge)
