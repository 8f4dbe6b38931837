"""Two imports into one account at the same moment, on real PostgreSQL: a line in
both files is stored, matched and booked once, and the same file twice is imported
once."""

from __future__ import annotations

import pytest

from billing.choices import ChargeStatus
from ledger.choices import EntryKind
from ledger.models import JournalEntry
from ledger.tests.test_ledger_concurrency import run_together
from reconciliation.choices import LineStatus
from reconciliation.models import Match, Statement, StatementLine
from reconciliation.services import statement_import
from tests.clock import at

from .statements import DAY, Entry, camt053, receiving_account, reference_of, transfer_notice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def importing(account, data, name):
    return lambda: statement_import(account=account, data=data, filename=name)


def test_overlapping_exports_imported_at_once_book_each_line_once():
    account = receiving_account()
    first, shared, last = (transfer_notice(amount) for amount in ("100.00", "200.00", "300.00"))
    monday = camt053(
        Entry("100.00", reference_of(first), reference="B-1"),
        Entry("200.00", reference_of(shared), reference="B-2"),
    )
    tuesday = camt053(
        Entry("200.00", reference_of(shared), reference="B-2"),
        Entry("300.00", reference_of(last), reference="B-3"),
    )

    with at(DAY):
        summaries, refused = run_together(
            [importing(account, monday, "mon.xml"), importing(account, tuesday, "tue.xml")]
        )

    assert not refused
    assert sorted(s.lines_new for s in summaries) == [1, 2]
    assert sum(s.duplicates for s in summaries) == 1
    assert StatementLine.objects.count() == 3
    assert set(StatementLine.objects.values_list("status", flat=True)) == {LineStatus.MATCHED}
    assert Match.objects.count() == 3
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 3
    for charge in (first, shared, last):
        charge.refresh_from_db()
        assert charge.status == ChargeStatus.PAID


def test_the_same_file_uploaded_twice_at_once_is_imported_once():
    account = receiving_account()
    charge = transfer_notice("100.00")
    data = camt053(Entry("100.00", reference_of(charge)))

    with at(DAY):
        summaries, refused = run_together(
            [importing(account, data, "a.xml"), importing(account, data, "b.xml")]
        )

    assert not refused
    assert sorted(s.already_imported for s in summaries) == [False, True]
    assert Statement.objects.count() == 1 and StatementLine.objects.count() == 1
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
