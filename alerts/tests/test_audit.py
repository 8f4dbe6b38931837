"""The audit events of alerts: raised once (not for the copy a sweep would have
made), then acknowledged, resolved or closed, one event per alert moved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alerts.choices import AlertKind, AlertStatus, Severity
from alerts.models import Alert
from alerts.services import alert_raise, alerts_acknowledge, alerts_close, alerts_resolve
from audit.context import actor_scope
from audit.models import AuditEvent
from audit.verification import audit_chain_verify
from contracts.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def raise_overdue(subject="charge:1", **kwargs) -> Alert:
    return alert_raise(
        kind=AlertKind.CHARGE_OVERDUE, subject=subject, message="Charge overdue", **kwargs
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def assert_chain_ok():
    result = audit_chain_verify()
    assert result.ok, [str(p) for p in result.problems]


def test_raising_records_the_new_alert_once():
    customer = CustomerFactory()
    with actor_scope("system:alerts_sweep"):
        alert = raise_overdue(customer=customer, severity=Severity.CRITICAL)
        again = raise_overdue(customer=customer, severity=Severity.CRITICAL)
    assert again.pk == alert.pk
    [event] = events("alert.raised")
    assert (event.object_type, event.object_id) == ("alerts.alert", str(alert.pk))
    assert event.actor == "system:alerts_sweep"
    assert event.changes == {
        "after": {
            "kind": "charge_overdue",
            "severity": "critical",
            "subject": "charge:1",
            "customer": customer.pk,
            "message": "Charge overdue",
            "status": "open",
        }
    }
    assert_chain_ok()


def test_resolving_records_each_alert_it_closes():
    alert = raise_overdue()
    assert alerts_resolve(kind=AlertKind.CHARGE_OVERDUE, subject="charge:1") == 1
    [event] = events("alert.resolved")
    assert event.object_id == str(alert.pk)
    assert event.changes["status"] == ["open", "resolved"]
    assert event.changes["resolved_at"][0] is None
    assert event.changes["resolved_at"][1]
    # nothing open any more: nothing changes, nothing is recorded
    assert alerts_resolve(kind=AlertKind.CHARGE_OVERDUE, subject="charge:1") == 0
    assert len(events("alert.resolved")) == 1
    assert_chain_ok()


def test_acknowledging_records_the_new_owner(django_user_model):
    user = django_user_model.objects.create_user("clerk", "c@example.com", "pw")
    first, second = raise_overdue("charge:1"), raise_overdue("charge:2")
    alerts_acknowledge(Alert.objects.filter(pk=first.pk), by=user)
    count = alerts_acknowledge(Alert.objects.all(), by=user)
    assert count == 1  # the first is no longer open
    recorded = events("alert.acknowledged")
    assert [e.object_id for e in recorded] == [str(first.pk), str(second.pk)]
    assert recorded[0].changes == {"status": ["open", "acknowledged"], "owner": [None, user.pk]}
    assert Alert.objects.get(pk=second.pk).owner == user
    assert_chain_ok()


def test_closing_records_one_event_per_alert_changed(django_user_model):
    user = django_user_model.objects.create_user("clerk", "c@example.com", "pw")
    alerts = [raise_overdue(f"charge:{n}") for n in range(3)]
    alerts_acknowledge(Alert.objects.filter(pk=alerts[0].pk), by=user)
    alerts_resolve(kind=AlertKind.CHARGE_OVERDUE, subject="charge:2")
    assert alerts_close(Alert.objects.all()) == 2
    recorded = events("alert.closed")
    assert [e.object_id for e in recorded] == [str(alerts[0].pk), str(alerts[1].pk)]
    assert recorded[0].changes["status"] == ["acknowledged", "resolved"]
    assert recorded[1].changes["status"] == ["open", "resolved"]
    assert set(Alert.objects.values_list("status", flat=True)) == {AlertStatus.RESOLVED}
    assert_chain_ok()


def test_the_admin_action_records_the_staff_user_and_the_page_links_to_it(admin_client):
    alert = raise_overdue()
    response = admin_client.post(
        reverse("admin:alerts_alert_changelist"),
        {"action": "resolve_alerts", "_selected_action": [alert.pk], "q": "charge"},
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 302
    [event] = events("alert.closed")
    assert event.actor.startswith("user:") and event.actor.endswith(":admin")
    assert event.ip == "198.51.100.4" and event.request_id

    page = admin_client.get(reverse("admin:alerts_alert_change", args=[alert.pk]))
    assert page.status_code == 200
    assert f"about=alerts.alert%3A{alert.pk}" in page.content.decode()


def test_many_alerts_are_raised_together_with_one_event_each_alert_shows():
    """alerts_raise_many: one insert, one alerts.raised event naming exactly the alerts
    created; a subject that already has one open gets no second alert; a later change
    to an alert's message is caught by audit_verify over that event."""
    from alerts.services import NewAlert, alerts_raise_many
    from audit.selectors import events_for

    open_already = raise_overdue("charge:1")
    customer = CustomerFactory()
    created = alerts_raise_many(
        [
            NewAlert(kind=AlertKind.CHARGE_OVERDUE, subject=s, message="late", customer_id=c)
            for s, c in (("charge:1", None), ("charge:2", customer.pk), ("charge:3", None))
        ]
    )
    assert created == 2
    new = list(Alert.objects.exclude(pk=open_already.pk).order_by("subject"))
    assert [a.subject for a in new] == ["charge:2", "charge:3"]
    assert new[0].customer == customer and new[0].status == AlertStatus.OPEN
    (event,) = events("alerts.raised")
    assert event.bulk["ids"] == sorted(a.pk for a in new)
    assert event in events_for(new[0]) and event not in events_for(open_already)
    assert alerts_raise_many([]) == 0 and len(events("alerts.raised")) == 1
    assert_chain_ok()

    Alert.objects.filter(pk=new[1].pk).update(message="rewritten")
    problems = audit_chain_verify().problems
    assert problems and f"ids {new[1].pk})" in problems[0].message
