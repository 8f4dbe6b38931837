"""The roles as every installation gets them from the migrations: a clerk does the
day's work but neither approves nor changes thresholds, a manager does both, and
an auditor reads everything and changes nothing but sign-offs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEvent
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.roles import AUDITOR, FINANCE_CLERK, FINANCE_MANAGER
from payments.services.staff import write_off_approve, write_off_request
from payments.tests.collection_helpers import billed_charge
from risk.models import RiskRule

pytestmark = pytest.mark.django_db

CHANGING = ("add_", "change_", "delete_", "approve_", "reopen_")


@pytest.fixture
def people(django_user_model):
    def person(name, role):
        user = django_user_model.objects.create_user(
            name, f"{name}@example.com", "pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return django_user_model.objects.get(pk=user.pk)

    return {
        "clerk": person("clerk", FINANCE_CLERK),
        "manager": person("manager", FINANCE_MANAGER),
        "auditor": person("auditor", AUDITOR),
    }


def test_the_migrations_create_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        FINANCE_CLERK,
        FINANCE_MANAGER,
        AUDITOR,
    }


def _rule_url(code="overdue_long"):
    return reverse("admin:risk_riskrule_change", args=[RiskRule.objects.get(code=code).pk])


def _post_threshold(client, user, days):
    client.force_login(user)
    return client.post(_rule_url(), {"enabled": "on", "severity": "warning", "days": str(days)})


def test_a_clerk_sees_the_thresholds_but_cannot_change_them(client, people):
    client.force_login(people["clerk"])
    assert client.get(reverse("admin:risk_riskrule_changelist")).status_code == 200

    assert _post_threshold(client, people["clerk"], 5).status_code == 403
    assert RiskRule.objects.get(code="overdue_long").days == 30


def test_a_manager_changes_a_threshold_and_the_change_is_audited(client, people):
    response = _post_threshold(client, people["manager"], 45)

    assert response.status_code == 302
    rule = RiskRule.objects.get(code="overdue_long")
    assert (rule.days, rule.updated_by) == (45, people["manager"])
    event = AuditEvent.objects.get(action="risk_rule.changed")
    assert event.changes == {"days": [30, 45]}
    assert event.actor == f"user:{people['manager'].pk}:manager"


def test_a_threshold_the_rule_reads_cannot_be_left_empty(client, people):
    client.force_login(people["manager"])
    response = client.post(_rule_url(), {"enabled": "on", "severity": "warning", "days": ""})

    assert response.status_code == 200
    assert "This rule needs a value here." in response.content.decode()
    assert RiskRule.objects.get(code="overdue_long").days == 30


def test_a_clerk_asks_for_a_write_off_but_only_a_manager_approves_it(people):
    charge = billed_charge("3000.00", method="bank_transfer")
    asked = write_off_request(charge=charge, requested_by=people["clerk"], reason="无法收回")

    with pytest.raises(BusinessError) as refused:
        write_off_approve(request=asked, approved_by=people["clerk"])
    assert "decided_by" in refused.value.detail
    with pytest.raises(BusinessError, match="not allowed"):
        write_off_approve(request=asked, approved_by=people["auditor"])

    assert write_off_approve(request=asked, approved_by=people["manager"]).status == "approved"


def test_an_auditor_can_change_nothing(client, people):
    auditor = people["auditor"]
    granted = {p.codename for p in Group.objects.get(name=AUDITOR).permissions.all()}
    assert {c for c in granted if c.startswith(CHANGING)} == set()
    assert auditor.has_perms(
        ["reconciliation.sign_off_reconciliationrun", "audit.verify_auditevent"]
    )

    client.force_login(auditor)
    assert client.get(reverse("admin:billing_charge_changelist")).status_code == 200
    assert _post_threshold(client, auditor, 1).status_code == 403
    assert client.get(reverse("admin:contracts_customer_add")).status_code == 403


def test_an_auditor_verifies_the_chain_from_the_admin(client, people):
    url = reverse("admin:audit_auditevent_verify_chain")
    client.force_login(people["clerk"])
    assert client.get(url).status_code == 403

    client.force_login(people["auditor"])
    response = client.get(url, follow=True)
    assert response.status_code == 200
    assert "audit chain intact" in response.content.decode()


def test_a_clerk_proposes_a_fee_change_and_only_a_manager_approves_it(people):
    import datetime as dt

    from billing.services.amendments import amendment_approve, amendment_propose
    from tests.clock import at

    clerk, manager, auditor = people["clerk"], people["manager"], people["auditor"]
    assert clerk.has_perms(["billing.add_feeamendment", "billing.record_decision_feeamendment"])
    assert not clerk.has_perm("billing.approve_feeamendment")
    assert manager.has_perm("billing.approve_feeamendment")
    assert auditor.has_perm("billing.view_feeamendment")
    assert not auditor.has_perm("billing.add_feeamendment")
    charge = billed_charge("3000.00")
    with at(dt.date(2026, 3, 10)):
        amendment = amendment_propose(
            fee=charge.fee,
            new_amount="3300.00",
            effective_from=dt.date(2026, 4, 2),
            reason="扩容",
            by=clerk,
        )
        assert amendment_approve(amendment=amendment, by=manager).status == "sent"


def test_the_customers_and_integrators_doors_are_staffed(people):
    clerk, manager, auditor = people["clerk"], people["manager"], people["auditor"]
    assert clerk.has_perm("portal.add_customeruser")
    assert not clerk.has_perm("integrations.add_apikey")
    assert manager.has_perms(["integrations.add_apikey", "webhooks.add_webhookendpoint"])
    assert auditor.has_perms(["feedback.view_surveyanswer", "webhooks.view_webhookdelivery"])
