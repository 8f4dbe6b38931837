"""The database refuses to change or delete an event, whichever way it is asked."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent

from .support import raw, record_events

REFUSED = "audit events are append-only"


def refused(call) -> None:
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        call()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_update_delete_and_truncate():
    record_events(3)
    refused(lambda: raw("UPDATE audit_auditevent SET actor = 'x' WHERE sequence = 2"))
    refused(lambda: raw("DELETE FROM audit_auditevent WHERE sequence = 3"))
    refused(lambda: raw("TRUNCATE audit_auditevent"))
    refused(lambda: raw("TRUNCATE audit_auditevent CASCADE"))
    assert AuditEvent.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_the_orm_too():
    (event,) = record_events(1)
    event.actor = "someone else"
    refused(event.save)
    refused(event.delete)
    refused(lambda: AuditEvent.objects.update(action="x"))
    refused(lambda: AuditEvent.objects.all().delete())
    assert AuditEvent.objects.get().compute_hash() == event.hash


@pytest.mark.django_db
def test_sqlite_refuses_update_and_delete():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite triggers")
    (event,) = record_events(1)
    refused(lambda: raw("UPDATE audit_auditevent SET actor = 'x'"))
    refused(lambda: raw("DELETE FROM audit_auditevent"))
    event.action = "changed"
    refused(event.save)
    refused(event.delete)
    assert AuditEvent.objects.get().action == "test.event"


@pytest.mark.django_db(transaction=True)
def test_a_test_database_can_still_be_flushed():
    """Django flushes after each transactional test; there the triggers step aside."""
    from django.core.management import call_command

    record_events(2)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    record_events(1)
    refused(lambda: raw("DELETE FROM audit_auditevent"))  # and they are back
