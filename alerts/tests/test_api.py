"""Alerts over the API: newest first by cursor, filtered, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.test.utils import CaptureQueriesContext

from alerts.services import alert_raise, alerts_close

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"


def raise_alerts(n: int, start: int = 0):
    for number in range(start, start + n):
        alert_raise(kind="charge_overdue", subject=f"charge:{number}", message=f"逾期 {number}")


def test_open_alerts_newest_first_with_their_owner(admin_client):
    raise_alerts(3)
    alert_raise(kind="audit_chain_broken", subject="audit-chain", message="x", severity="critical")
    from alerts.models import Alert

    alerts_close(Alert.objects.filter(subject="charge:0"))

    page = admin_client.get(URL, {"open": "true"}).json()
    assert [a["subject"] for a in page["results"]] == ["audit-chain", "charge:2", "charge:1"]
    assert page["results"][0]["severity"] == "critical" and page["results"][0]["owner"] is None
    critical = admin_client.get(URL, {"severity": "critical"}).json()["results"]
    assert [a["kind"] for a in critical] == ["audit_chain_broken"]


def test_the_list_costs_the_same_queries_for_3_or_30_alerts(admin_client):
    from django.db import connection

    def count(n, start):
        raise_alerts(n, start)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(URL, {"page_size": 100}).status_code == 200
        return len(queries)

    assert count(3, 0) == count(27, 100)


def test_staff_without_the_view_permission_are_refused(client, django_user_model):
    clerk = django_user_model.objects.create_user("c", "c@example.com", "pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(URL).status_code == 403
