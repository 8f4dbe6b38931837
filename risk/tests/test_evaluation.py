"""A risk run as the schedule and the events start it: alerts raised once, resolved
when the problem is gone, e-mailed in one digest, critical ones at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from alerts.choices import AlertStatus, Severity
from alerts.models import Alert
from alerts.services import alert_raise
from audit.models import AuditEvent
from billing.services.run import billing_run_contract
from contracts.tests.factories import CustomerFactory
from feemgmt.core.roles import FINANCE_CLERK
from payments.models import Mandate
from payments.services.mandates import mandates_revoke
from payments.tests.collection_helpers import DAY, billed_charge
from risk.services import risk_evaluate
from risk.tasks import risk_evaluate_task
from tests.clock import at

from .support import open_alerts, set_rule
from .test_rules_mandates_reconciliation import mandate

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(django_user_model):
    group, _created = Group.objects.get_or_create(name=FINANCE_CLERK)
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    clerk.groups.add(group)
    return clerk


def test_a_rule_finding_the_same_problem_again_raises_one_alert():
    mandate(CustomerFactory(), valid_until=DAY + dt.timedelta(days=5))
    first = risk_evaluate(today=DAY)["mandate_expiring"]
    second = risk_evaluate(today=DAY)["mandate_expiring"]

    assert (first.raised, second.raised, second.found) == (1, 0, 1)
    assert Alert.objects.filter(kind="mandate_expiring").count() == 1
    # one event for the raise, none for the run that found it again
    assert AuditEvent.objects.filter(action="risk.alerts_raised").count() == 1


def test_a_snoozed_alert_is_not_raised_again_while_it_sleeps(admin_user):
    mandate(CustomerFactory(), valid_until=DAY + dt.timedelta(days=5))
    risk_evaluate(today=DAY)
    from alerts.services import alerts_snooze

    with at(DAY):
        alerts_snooze(Alert.objects.all(), until=DAY + dt.timedelta(days=3), by=admin_user)
    assert risk_evaluate(today=DAY)["mandate_expiring"].raised == 0
    assert Alert.objects.get().status == AlertStatus.SNOOZED


def test_the_scheduled_run_emails_one_digest_of_warnings_and_above(finance, mailoutbox):
    set_rule("prepaid_low", severity="info")
    for number in range(3):
        mandate(CustomerFactory(), f"MNDT-{number}", valid_until=DAY + dt.timedelta(days=5))
    alert_raise(kind="collection_blocked", subject="charge:1", message="只是提示", severity="info")

    with at(DAY):
        risk_evaluate_task()

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["clerk@example.com"]
    assert "3" in mail.subject
    assert mail.body.count("MNDT-") == 3 and "只是提示" not in mail.body
    assert "/admin/alerts/alert/" in mail.body
    # told once: the next run sends nothing new
    with at(DAY):
        risk_evaluate_task()
    assert len(mailoutbox) == 1
    assert not Alert.objects.filter(severity="warning", notified_at__isnull=True).exists()


def test_nothing_is_marked_told_when_no_one_can_be_told(mailoutbox):
    mandate(CustomerFactory(), valid_until=DAY + dt.timedelta(days=5))
    with at(DAY):
        risk_evaluate_task()
    assert mailoutbox == []
    assert Alert.objects.get().notified_at is None


def test_a_critical_alert_is_emailed_as_soon_as_it_is_raised(
    finance, mailoutbox, django_capture_on_commit_callbacks, eager
):
    with django_capture_on_commit_callbacks(execute=True):
        alert_raise(
            kind="audit_chain_broken",
            subject="audit-chain",
            message="event 7 altered",
            severity=Severity.CRITICAL,
        )
        alert_raise(kind="charge_overdue", subject="charge:9", message="逾期", severity="warning")

    assert len(mailoutbox) == 1
    assert "event 7 altered" in mailoutbox[0].body and "逾期" not in mailoutbox[0].body


def test_billing_checks_each_new_charge_against_the_fee_usual_amount(
    django_capture_on_commit_callbacks, settings, eager
):
    from billing.models import Charge

    settings.PAYMENT_COLLECT_AFTER_BILLING = False
    first = billed_charge("3000.00")
    # the fee's next charges, as billed; then one far from the usual amount
    with at(dt.date(2026, 4, 2)), django_capture_on_commit_callbacks(execute=True):
        billing_run_contract(contract=first.contract, on=dt.date(2026, 4, 2))
    assert open_alerts("amount_deviation") == []
    Charge.objects.filter(pk=first.pk).update(amount=500)  # the earlier charge was lower
    with at(dt.date(2026, 5, 2)), django_capture_on_commit_callbacks(execute=True):
        billing_run_contract(contract=first.contract, on=dt.date(2026, 5, 2))

    (alert,) = open_alerts("amount_deviation")
    assert alert.subject.startswith("charge:")


def test_revoking_a_mandate_raises_the_alert_after_commit(
    django_capture_on_commit_callbacks, eager
):
    charge = billed_charge("3000.00", method="auto_debit")
    owing = mandate(charge.contract.customer)
    with django_capture_on_commit_callbacks(execute=True):
        mandates_revoke(Mandate.objects.filter(pk=owing.pk))

    assert [a.subject for a in open_alerts("mandate_revoked")] == [f"mandate:{owing.pk}"]


def _queries_for(n: int, start: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for number in range(start, start + n):
        mandate(CustomerFactory(), f"MNDT-Q{number}", valid_until=DAY + dt.timedelta(days=5))
    with CaptureQueriesContext(connection) as queries:
        runs = risk_evaluate(today=DAY)
    assert runs["mandate_expiring"].raised == n
    return len(queries)


def test_a_run_costs_the_same_queries_for_3_or_30_findings():
    risk_evaluate(today=DAY)  # the rows of the rules exist
    assert _queries_for(3, 0) == _queries_for(30, 100)
