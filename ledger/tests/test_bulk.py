"""Many entries at once: the same checks as one entry, all or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from feemgmt.core.exceptions import BusinessError
from ledger.bulk import Posting, post_many
from ledger.cash import cash_account
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry, JournalLine
from ledger.selectors import account_balance, unbalanced_entries
from ledger.services import account_for

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def accounts():
    clearing = account_for(
        purpose=AccountPurpose.CLEARING, currency="CNY", payment_method="bank_transfer"
    )
    return cash_account("icbc-cny", "CNY"), clearing


def receipt(reference, amount, cash, clearing):
    value = Decimal(amount)
    return Posting(
        kind=EntryKind.CASH_RECEIPT,
        reference=reference,
        currency="CNY",
        on=DAY,
        lines=((cash, value), (clearing, -value)),
    )


def test_balanced_entries_are_posted_in_one_go(accounts, django_assert_max_num_queries):
    cash, clearing = accounts
    postings = [receipt(f"line:{n}", f"{n}.50", cash, clearing) for n in range(1, 201)]

    with django_assert_max_num_queries(4):
        ids = post_many(postings)

    assert len(ids) == 200 and JournalLine.objects.count() == 400
    assert account_balance(cash).amount == sum(Decimal(f"{n}.50") for n in range(1, 201))
    assert unbalanced_entries() == []


@pytest.mark.parametrize(
    "lines",
    [
        lambda cash, clearing: ((cash, Decimal("10.00")), (clearing, Decimal("-9.99"))),
        lambda cash, clearing: ((cash, Decimal("10.001")), (clearing, Decimal("-10.001"))),
        lambda cash, clearing: ((cash, Decimal("10.00")),),
    ],
)
def test_one_bad_entry_refuses_the_whole_batch(accounts, lines):
    cash, clearing = accounts
    bad = Posting(
        kind=EntryKind.CASH_RECEIPT,
        reference="bad",
        currency="CNY",
        on=DAY,
        lines=lines(cash, clearing),
    )
    with pytest.raises(BusinessError):
        post_many([receipt("good", "5.00", cash, clearing), bad])
    assert not JournalEntry.objects.exists()


def test_a_reference_posted_before_fails_the_batch(accounts):
    cash, clearing = accounts
    post_many([receipt("line:1", "5.00", cash, clearing)])
    with pytest.raises(IntegrityError), transaction.atomic():
        post_many(
            [receipt("line:2", "6.00", cash, clearing), receipt("line:1", "5.00", cash, clearing)]
        )
    assert JournalEntry.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("copy_from", [2, 10_000])  # by COPY, and by multi-row INSERT
def test_each_entry_gets_its_own_lines_whichever_way_it_is_written(
    accounts, monkeypatch, copy_from
):
    """The entries' ids are drawn before they are written: each returned id is the
    entry of that reference, holding exactly its own two lines."""
    from feemgmt.core import sql

    monkeypatch.setattr(sql, "COPY_FROM", copy_from)
    cash, clearing = accounts
    JournalEntry.objects.create(
        kind=EntryKind.CASH_RECEIPT, reference="before", currency="CNY", effective_on=DAY
    )
    ids = post_many([receipt(f"line:{n}", f"{n}.00", cash, clearing) for n in range(1, 6)])

    for (kind, reference), entry_id in ids.items():
        entry = JournalEntry.objects.get(pk=entry_id)
        assert (entry.kind, entry.reference) == (kind, reference)
        amount = Decimal(reference.split(":")[1])
        assert sorted(entry.lines.values_list("amount", flat=True)) == [-amount, amount]
    later = JournalEntry.objects.create(
        kind=EntryKind.CASH_RECEIPT, reference="after", currency="CNY", effective_on=DAY
    )
    assert later.pk > max(ids.values())
