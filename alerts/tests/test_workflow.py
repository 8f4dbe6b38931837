"""An alert's workflow as finance staff work it: assign it, snooze it until a day,
see it wake up open on that day, resolve it — each move in its history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from alerts.choices import ALERT_TRANSITIONS, AlertStatus
from alerts.models import Alert
from alerts.services import (
    alert_raise,
    alerts_assign,
    alerts_close,
    alerts_snooze,
    alerts_wake,
)
from audit.models import AuditEvent
from feemgmt.core.exceptions import BusinessError
from tests.clock import at

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def alert():
    return alert_raise(kind="charge_overdue", subject="charge:1", message="逾期 3000.00 CNY")


@pytest.fixture
def colleague(django_user_model):
    return django_user_model.objects.create_user("wang", "w@example.com", "pw", is_staff=True)


def actions(alert):
    return list(
        AuditEvent.objects.filter(object_id=str(alert.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_every_status_but_resolved_can_move_on():
    assert ALERT_TRANSITIONS[AlertStatus.RESOLVED] == frozenset()
    assert all(ALERT_TRANSITIONS[s] for s in AlertStatus if s != AlertStatus.RESOLVED)


def test_a_snoozed_alert_wakes_up_open_on_its_day(alert, admin_user):
    Alert.objects.filter(pk=alert.pk).update(notified_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    with at(DAY):
        assert alerts_snooze(Alert.objects.all(), until=DAY + dt.timedelta(days=3), by=admin_user)
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until, alert.owner) == (
        AlertStatus.SNOOZED,
        DAY + dt.timedelta(days=3),
        admin_user,  # whoever snoozes an unowned alert takes it
    )

    assert alerts_wake(on=DAY + dt.timedelta(days=2)) == 0
    assert alerts_wake(on=DAY + dt.timedelta(days=3)) == 1
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until, alert.owner) == (AlertStatus.OPEN, None, admin_user)
    assert alert.notified_at is None  # the next digest tells of it again
    assert actions(alert) == ["alert.raised", "alert.snoozed", "alert.woken"]


def test_an_alert_cannot_be_snoozed_into_the_past_or_once_resolved(alert, admin_user):
    with at(DAY), pytest.raises(BusinessError):
        alerts_snooze(Alert.objects.all(), until=DAY, by=admin_user)
    alerts_close(Alert.objects.all())
    with at(DAY):
        assert (
            alerts_snooze(Alert.objects.all(), until=DAY + dt.timedelta(days=1), by=admin_user) == 0
        )
    assert Alert.objects.get().status == AlertStatus.RESOLVED


def test_an_alert_is_handed_to_a_colleague_and_keeps_its_status(alert, colleague):
    assert alerts_assign(Alert.objects.all(), owner=colleague) == 1
    assert alerts_assign(Alert.objects.all(), owner=colleague) == 0  # already theirs
    alert.refresh_from_db()
    assert (alert.owner, alert.status) == (colleague, AlertStatus.OPEN)
    event = AuditEvent.objects.get(action="alert.assigned")
    assert event.changes == {"owner": [None, colleague.pk]}


def test_an_alert_is_not_handed_to_someone_outside_the_staff(alert, django_user_model):
    outsider = django_user_model.objects.create_user("cust", "c@example.com", "pw")
    with pytest.raises(BusinessError):
        alerts_assign(Alert.objects.all(), owner=outsider)


def test_the_admin_snoozes_the_selected_alerts_until_the_day_asked(admin_client, alert):
    url = reverse("admin:alerts_alert_changelist")
    with at(DAY):
        page = admin_client.post(url, {"action": "snooze_alerts", "_selected_action": [alert.pk]})
        assert page.status_code == 200 and "until" in page.content.decode()
        done = admin_client.post(
            url,
            {
                "action": "snooze_alerts",
                "_selected_action": [alert.pk],
                "apply": "1",
                "until": "2026-03-09",
            },
        )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until) == (AlertStatus.SNOOZED, dt.date(2026, 3, 9))


def test_the_admin_assigns_the_selected_alerts(admin_client, alert, colleague):
    url = reverse("admin:alerts_alert_changelist")
    done = admin_client.post(
        url,
        {
            "action": "assign_alerts",
            "_selected_action": [alert.pk],
            "apply": "1",
            "owner": colleague.pk,
        },
    )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.owner == colleague
