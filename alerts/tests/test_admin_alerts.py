"""Alerts in the admin: a coloured list staff work through, acknowledged (taken
over) and resolved by actions, never added by hand."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from alerts.choices import AlertKind, AlertStatus, Severity
from alerts.models import Alert
from alerts.services import alert_raise
from contracts.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:alerts_alert_changelist"


@pytest.fixture
def alerts():
    customer = CustomerFactory()
    return [
        alert_raise(
            kind=AlertKind.CHARGE_OVERDUE,
            subject="charge:1",
            message="Charge overdue for 10 days",
            severity=Severity.CRITICAL,
            customer=customer,
        ),
        alert_raise(
            kind=AlertKind.MANDATE_EXPIRING,
            subject="mandate:1",
            message="Mandate expires in 30 days",
            severity=Severity.INFO,
        ),
    ]


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, action: str, objects):
    return client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [a.pk for a in objects]}
    )


def test_list_and_change_pages_render_with_severity_colours(admin_client, alerts):
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    page = response.content.decode()
    assert "charge:1" in page and "mandate:1" in page
    assert "bg-red-100" in page  # critical (and open)
    assert "bg-blue-100" in page  # information
    for alert in alerts:
        response = admin_client.get(reverse("admin:alerts_alert_change", args=(alert.pk,)))
        assert response.status_code == 200
        assert alert.message in response.content.decode()


def test_filters_narrow_the_list(admin_client, alerts):
    response = admin_client.get(reverse(CHANGELIST), {"severity__exact": Severity.CRITICAL})
    assert [a.pk for a in response.context["cl"].result_list] == [alerts[0].pk]
    Alert.objects.filter(pk=alerts[1].pk).update(status=AlertStatus.RESOLVED)
    response = admin_client.get(reverse(CHANGELIST), {"open": "yes"})
    assert [a.pk for a in response.context["cl"].result_list] == [alerts[0].pk]


def test_alerts_cannot_be_added_or_deleted_by_hand(admin_client, alerts):
    assert admin_client.get(reverse("admin:alerts_alert_add")).status_code == 403
    url = reverse("admin:alerts_alert_delete", args=(alerts[0].pk,))
    assert admin_client.get(url).status_code == 403


def test_acknowledge_takes_the_alert_over(admin_client, admin_user, alerts):
    response = act(admin_client, "acknowledge_alerts", alerts[:1])
    assert response.status_code == 302
    alert = Alert.objects.get(pk=alerts[0].pk)
    assert (alert.status, alert.owner) == (AlertStatus.ACKNOWLEDGED, admin_user)
    assert "1 alert acknowledged." in texts(response)
    assert Alert.objects.get(pk=alerts[1].pk).status == AlertStatus.OPEN


def test_resolve_closes_open_and_acknowledged_alerts(admin_client, alerts):
    act(admin_client, "acknowledge_alerts", alerts[:1])
    response = act(admin_client, "resolve_alerts", alerts)
    assert "2 alerts resolved." in texts(response)
    for alert in Alert.objects.all():
        assert alert.status == AlertStatus.RESOLVED
        assert alert.resolved_at is not None
    # A resolved alert is not acknowledged again.
    response = act(admin_client, "acknowledge_alerts", alerts)
    assert "0 alerts acknowledged." in texts(response)
    assert Alert.objects.filter(status=AlertStatus.RESOLVED).count() == 2


def test_a_viewer_without_change_permission_has_no_actions(client, django_user_model, alerts):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_alert"))
    client.force_login(viewer)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    act(client, "resolve_alerts", alerts)
    assert not Alert.objects.filter(status=AlertStatus.RESOLVED).exists()
