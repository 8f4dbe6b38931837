"""Django's flush, which empties every table, able to empty the audit trail only
in a test database.

Django's TransactionTestCase flushes the database after each test; the audit
table's triggers refuse the TRUNCATE (PostgreSQL) or DELETE (SQLite) it issues.
In a database the test runner created the triggers are suspended for the flush;
anywhere else flush fails on the audit table, as an append-only trail should.
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from audit import triggers


class Command(FlushCommand):
    def handle(self, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        if not triggers.is_test_database(connection):
            return super().handle(**options)
        with triggers.suspended(connection.alias):
            return super().handle(**options)
