"""The alert workflow over the API: acknowledge (the caller takes it over), assign,
snooze until a later day and resolve, each recorded; a move the alert's status
does not allow is a 409, a bad owner or day a 400 on its field, 403 without
``alerts.change_alert`` and 404 on another customer's alert for a scoped key."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_raise
from audit.models import AuditEvent
from contracts.tests.factories import CustomerFactory
from payments.tests.test_api_attempts import scoped_client, staff_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"


def raised(customer=None, subject="charge:1") -> Alert:
    return alert_raise(kind="charge_overdue", subject=subject, message="逾期", customer=customer)


def move(client, alert, action, body=None):
    return client.post(f"{URL}{alert.id}/{action}/", body or {}, format="json")


@pytest.fixture
def finance(django_user_model):
    return staff_client(django_user_model, "finance", "view_alert", "change_alert")


def test_acknowledged_by_the_caller_then_resolved(finance):
    alert = raised()

    acknowledged = move(finance, alert, "acknowledge")

    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json() | {"status": "acknowledged", "owner": "finance"} == (
        acknowledged.json()
    )
    assert move(finance, alert, "acknowledge").status_code == 409
    resolved = move(finance, alert, "resolve")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"]
    again = move(finance, alert, "resolve")
    assert again.status_code == 409 and "resolved" in again.json()["detail"]
    actions = AuditEvent.objects.filter(object_id=str(alert.id)).values_list("action", flat=True)
    assert list(actions.order_by("sequence")) == [
        "alert.raised",
        "alert.acknowledged",
        "alert.closed",
    ]


def test_assigned_to_active_staff_only(finance, django_user_model):
    alert = raised()
    colleague = django_user_model.objects.create_user("colleague", is_staff=True)
    outsider = django_user_model.objects.create_user("outsider")

    assigned = move(finance, alert, "assign", {"owner": colleague.id})

    assert assigned.status_code == 200 and assigned.json()["owner"] == "colleague"
    assert assigned.json()["status"] == "open"
    refused = move(finance, alert, "assign", {"owner": outsider.id})
    assert refused.status_code == 400 and refused.json().keys() == {"owner"}
    nobody = move(finance, alert, "assign", {"owner": None})
    assert nobody.status_code == 200 and nobody.json()["owner"] is None
    move(finance, alert, "resolve")
    assert move(finance, alert, "assign", {"owner": colleague.id}).status_code == 409


def test_snoozed_until_a_later_day_only(finance):
    alert = raised()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    for day in (timezone.localdate(), "not a day"):
        refused = move(finance, alert, "snooze", {"until": str(day)})
        assert refused.status_code == 400 and refused.json().keys() == {"until"}
    snoozed = move(finance, alert, "snooze", {"until": tomorrow.isoformat()})

    assert snoozed.status_code == 200
    assert snoozed.json() | {"status": "snoozed", "snoozed_until": tomorrow.isoformat()} == (
        snoozed.json()
    )
    assert snoozed.json()["owner"] == "finance"
    assert move(finance, alert, "snooze", {"until": tomorrow.isoformat()}).status_code == 409
    assert move(finance, alert, "acknowledge").status_code == 200  # taken up early


def test_moving_needs_the_change_permission(django_user_model):
    alert = raised()
    viewer = staff_client(django_user_model, "viewer", "view_alert")
    assert viewer.get(f"{URL}{alert.id}/").status_code == 200
    for action in ("acknowledge", "resolve", "assign", "snooze"):
        assert move(viewer, alert, action).status_code == 403, action
    assert Alert.objects.get(pk=alert.pk).status == "open"


def test_a_scoped_key_moves_only_its_customers_alerts(django_user_model):
    mine, other = CustomerFactory(code="MINE"), CustomerFactory(code="OTHER")
    my_alert = raised(mine, "charge:1")
    other_alert = raised(other, "charge:2")
    company_alert = raised(None, "charge:3")
    scoped = scoped_client(django_user_model, mine, "change_alert")

    for alert in (other_alert, company_alert):
        assert move(scoped, alert, "acknowledge").status_code == 404
        assert move(scoped, alert, "resolve").status_code == 404
    assert set(Alert.objects.exclude(pk=my_alert.pk).values_list("status", flat=True)) == {"open"}
    assert move(scoped, my_alert, "resolve").status_code == 200
