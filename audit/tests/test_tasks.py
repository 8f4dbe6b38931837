"""The daily task: the head goes to the log and to the auditors; a break raises a
critical alert."""

import logging

import pytest
from django.contrib.auth.models import Group

from alerts.choices import AlertKind, Severity
from alerts.models import Alert
from audit.tasks import audit_verify_task
from feemgmt.core.roles import AUDITOR

from .support import raw, record_events, triggers_bypassed

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditors(django_user_model):
    group, _created = Group.objects.get_or_create(name=AUDITOR)
    for name in ("ann", "bo"):
        user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw")
        user.groups.add(group)
    django_user_model.objects.create_user("cy", "cy@example.com", "pw")  # not an auditor
    return group


def test_intact_chain_logs_and_mails_the_head(auditors, mailoutbox, caplog):
    events = record_events(3)
    with caplog.at_level(logging.INFO, logger="audit.tasks"):
        assert audit_verify_task.apply().get() is True
    assert f"audit chain head 3 {events[-1].hash} (3 events, intact)" in caplog.text
    (mail,) = mailoutbox
    assert sorted(mail.to) == ["ann@example.com", "bo@example.com"]
    assert mail.subject == "Audit chain intact: head 3"
    assert f"audit chain intact: 3 events, head 3 {events[-1].hash}" in mail.body
    assert not Alert.objects.exists()


def test_the_report_addresses_can_be_set(settings, auditors, mailoutbox):
    settings.AUDIT_REPORT_EMAILS = ["audit@example.com"]
    audit_verify_task.apply()
    assert mailoutbox[0].to == ["audit@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_broken_chain_raises_a_critical_alert(auditors, mailoutbox, caplog):
    record_events(5)
    with triggers_bypassed():
        raw("UPDATE audit_auditevent SET action = 'test.evenT' WHERE sequence = 3")
    with caplog.at_level(logging.INFO, logger="audit.tasks"):
        assert audit_verify_task.apply().get() is False
    alert = Alert.objects.get(kind=AlertKind.AUDIT_CHAIN_BROKEN, subject="audit-chain")
    assert alert.severity == Severity.CRITICAL
    assert "audit chain broken at event 3: hash does not match its contents" in alert.message
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)
    assert mailoutbox[0].subject == "Audit chain BROKEN at event 3"
    audit_verify_task.apply()  # the next day: still the one open alert
    assert Alert.objects.filter(kind=AlertKind.AUDIT_CHAIN_BROKEN).count() == 1


def test_no_recipients_no_mail(mailoutbox):
    audit_verify_task.apply()
    assert mailoutbox == []


def test_the_task_is_scheduled_daily_in_the_beat_database():
    from django_celery_beat.models import PeriodicTask

    from feemgmt.celery import app

    task = PeriodicTask.objects.get(name="Daily audit chain verification")
    assert task.task == "audit.verify" and task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("30", "6")
    app.autodiscover_tasks(force=True)
    assert "audit.verify" in app.tasks
