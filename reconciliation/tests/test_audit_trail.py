"""What reconciliation leaves in the audit trail: a file's lines, matches and
discrepancies in three events however long it is, each decision of a person in its
own, and a line altered afterwards is caught by the verification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.verification import audit_chain_verify
from reconciliation.models import StatementLine
from reconciliation.services import match_reject, statement_import
from reconciliation.services.runs import reconciliation_run_prepare
from tests.clock import at

from .statements import DAY, Entry, camt053, receiving_account, reference_of, transfer_notice

pytestmark = pytest.mark.django_db


def actions():
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def test_an_import_is_three_events_and_a_decision_one_more(admin_user):
    account = receiving_account()
    paid = transfer_notice("3000.00")
    transfer_notice("456.00")
    before = AuditEvent.objects.count()
    with at(DAY):
        statement_import(
            account=account,
            data=camt053(
                Entry("3000.00", reference_of(paid)),
                Entry("456.00", "没有附言"),  # suggested
                Entry("1.00", "利息"),  # unmatched
            ),
        )

    ours = actions()[before:]
    assert ours.count("statement.imported") == 1
    assert "statement.matched" in ours and "statement.discrepancies" in ours
    imported = AuditEvent.objects.get(action="statement.imported")
    assert imported.bulk["ids"] == sorted(StatementLine.objects.values_list("pk", flat=True))
    assert imported.changes["lines_new"] == 3

    suggestion = StatementLine.objects.get(amount=456).matches.get()
    match_reject(match=suggestion, by=admin_user)
    assert actions()[-2:] == ["match.rejected", "discrepancy.raised"]
    reconciliation_run_prepare(
        account=account, period_start=dt.date(2026, 3, 1), period_end=DAY, by=admin_user
    )
    assert actions()[-1] == "reconciliation_run.prepared"
    assert audit_chain_verify().ok


def test_a_statement_line_altered_afterwards_is_caught():
    account = receiving_account()
    with at(DAY):
        statement_import(account=account, data=camt053(Entry("10.00", "a"), Entry("20.00", "b")))
    line = StatementLine.objects.get(amount=20)
    assert audit_chain_verify().ok

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reconciliation_statementline SET amount = 2000 WHERE id = %s", [line.pk]
        )

    result = audit_chain_verify()
    assert not result.ok
    event = AuditEvent.objects.get(action="statement.imported")
    assert result.first_broken == event.sequence
    assert str(line.pk) in " ".join(str(problem) for problem in result.problems)


def test_an_account_changes_through_its_service_with_an_event():
    from feemgmt.core.exceptions import BusinessError
    from reconciliation.services import bank_account_update

    account = receiving_account()

    bank_account_update(account=account, name="工商银行一般户", holder=account.holder)

    event = AuditEvent.objects.filter(action="bank_account.updated").get()
    assert event.changes == {"name": ["工商银行基本户", "工商银行一般户"]}
    with pytest.raises(BusinessError) as frozen:
        bank_account_update(account=account, code="other")
    assert "code" in frozen.value.detail
    with pytest.raises(BusinessError) as mapping:
        bank_account_update(account=account, column_mapping={"name": "x"})
    assert "column_mapping" in mapping.value.detail
    assert AuditEvent.objects.filter(action="bank_account.updated").count() == 1
