"""The risk rules over the API: read by staff who may view them, changed by a finance
manager through the audited service, refused with a message per field."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from feemgmt.core.roles import FINANCE_CLERK, FINANCE_MANAGER

pytestmark = pytest.mark.django_db

URL = "/api/v1/risk-rules/"


def login(client, django_user_model, role):
    user = django_user_model.objects.create_user(role, f"{role}@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def test_a_clerk_reads_the_rules_with_their_thresholds(client, django_user_model):
    login(client, django_user_model, FINANCE_CLERK)
    rules = {rule["code"]: rule for rule in client.get(URL).json()}

    assert len(rules) == 12
    assert rules["on_time_rate"]["thresholds"] == ["percent", "count"]
    assert (rules["on_time_rate"]["percent"], rules["on_time_rate"]["count"]) == ("80.00", 6)
    assert (
        client.patch(
            f"{URL}overdue_long/", {"days": 5}, content_type="application/json"
        ).status_code
        == 403
    )


def test_a_manager_changes_a_threshold(client, django_user_model):
    manager = login(client, django_user_model, FINANCE_MANAGER)
    response = client.patch(f"{URL}overdue_long/", {"days": 45}, content_type="application/json")

    assert response.status_code == 200
    assert (response.json()["days"], response.json()["updated_by"]) == (45, manager.username)
    assert AuditEvent.objects.get(action="risk_rule.changed").changes == {"days": [30, 45]}


def test_a_threshold_the_rule_reads_cannot_be_emptied(client, django_user_model):
    login(client, django_user_model, FINANCE_MANAGER)
    response = client.patch(f"{URL}overdue_long/", {"days": None}, content_type="application/json")

    assert response.status_code == 400
    assert "days" in response.json()
    assert not AuditEvent.objects.filter(action="risk_rule.changed").exists()


def test_a_rate_above_100_percent_is_refused_and_nothing_changes(client, django_user_model):
    login(client, django_user_model, FINANCE_MANAGER)
    response = client.patch(
        f"{URL}on_time_rate/", {"percent": "120"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "percent" in response.json()
    assert client.get(f"{URL}on_time_rate/").json()["percent"] == "80.00"
    # the same number is a fine threshold for a rule that is not a rate
    ok = client.patch(
        f"{URL}amount_deviation/", {"percent": "120"}, content_type="application/json"
    )
    assert ok.status_code == 200
