"""Two billing runs at once (two workers, or a manual run during the nightly one)
must still create each charge exactly once. Real PostgreSQL, real transactions."""

import datetime as dt
import threading
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import Count

from billing import calendar
from billing.models import Charge
from billing.services import billing_run, billing_run_chunk
from billing.services.run import _insert_charges, _Row
from contracts.models import Fee
from contracts.services import FeeInput, contract_terminate
from contracts.tests.factories import CustomerFactory, make_contract
from feemgmt.core.money import money
from ledger.models import JournalEntry
from ledger.selectors import unbalanced_entries

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Run each call in its own thread (own database connection), released at once."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def duplicates():
    return list(
        Charge.objects.values("fee_id", "period_start").annotate(n=Count("id")).filter(n__gt=1)
    )


@pytest.fixture
def contracts():
    customer = CustomerFactory()
    with time_machine.travel(dt.datetime(2025, 12, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))):
        for i in range(40):
            make_contract(
                customer=customer,
                service_start=dt.date(2026, 1, 1) + dt.timedelta(days=i),
                alignment="anniversary" if i % 2 else "calendar",
                fees=[
                    FeeInput(kind="service_start", amount="100.00"),
                    FeeInput(kind="recurring", cycle="monthly", amount="1000.00"),
                    FeeInput(kind="recurring", cycle="quarterly", amount="2500.00"),
                ],
                signed_on=dt.date(2025, 12, 1),
            )


def test_two_runs_for_the_same_date_create_each_charge_once(contracts):
    day = dt.date(2026, 12, 1)
    first, second = run_together(
        lambda: billing_run(on=day, chunk_size=7), lambda: billing_run(on=day, chunk_size=5)
    )
    assert duplicates() == []
    total = Charge.objects.count()
    # 40 start fees + 40 × (11 or 12 monthly) + 40 × 4 quarterly
    assert total > 40 + 40 * 11 + 40 * 4
    assert first.charges_created + second.charges_created == total
    # and each is booked once in the ledger (all these fees are fee-type)
    assert JournalEntry.objects.filter(kind="charge").count() == total
    assert unbalanced_entries() == []
    again = billing_run(on=day)
    assert again.charges_created == 0


def test_overlapping_runs_for_different_dates_leave_no_gap_and_no_duplicate(contracts):
    run_together(
        lambda: billing_run(on=dt.date(2026, 6, 1), chunk_size=3),
        lambda: billing_run(on=dt.date(2026, 12, 1), chunk_size=3),
        lambda: billing_run(on=dt.date(2026, 9, 1), chunk_size=11),
    )
    assert duplicates() == []
    created = Charge.objects.count()
    assert billing_run(on=dt.date(2026, 12, 1)).charges_created == 0
    assert Charge.objects.count() == created


def test_uniqueness_alone_stops_duplicates_without_any_lock(contracts):
    """Bypass the run's row locks: two transactions insert the very same charges;
    the unique constraints let exactly one copy of each in."""
    billing_run(on=dt.date(2026, 12, 1))
    fee_rows = []
    for charge in Charge.objects.select_related("fee"):
        spec = calendar.ChargeSpec(
            period_start=charge.period_start,
            period_end=charge.period_end,
            due_date=charge.due_date,
            amount=money(charge.amount.amount, "CNY"),
            prorated=False,
        )
        fee_rows.append(_Row(charge.fee_id, charge.contract_id, charge.kind, spec))
    Charge.objects.all().delete()
    assert fee_rows

    def insert_in_one_transaction():
        with transaction.atomic():
            return _insert_charges(fee_rows)

    inserted = run_together(insert_in_one_transaction, insert_in_one_transaction)
    assert duplicates() == []
    assert Charge.objects.count() == len(fee_rows)
    assert len(inserted[0]) + len(inserted[1]) == len(fee_rows)


def test_a_run_waiting_on_a_termination_bills_up_to_the_new_end_only():
    """A run blocked on a fee row that a termination holds must, once the
    termination commits, bill with the new last day of service — not with the
    contract as it stood when the run's statement began."""
    with time_machine.travel(dt.datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))):
        contract = make_contract(service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 1))
    billing_run(on=dt.date(2026, 2, 1))  # Jan, Feb; the bookmark is now Mar 1
    fee = Fee.objects.get(contract=contract)
    locked, run_started = threading.Event(), threading.Event()

    def terminate():
        with transaction.atomic():
            Fee.objects.select_for_update().get(pk=fee.pk)  # as the termination will
            locked.set()
            run_started.wait(timeout=10)
            time.sleep(0.5)  # let the run reach the lock and wait on it
            contract_terminate(contract=contract, end_date=dt.date(2026, 3, 10))

    def run():
        locked.wait(timeout=10)
        run_started.set()
        return billing_run_chunk(on=dt.date(2026, 6, 1), first_id=fee.pk, last_id=fee.pk)

    run_together(terminate, run)
    rows = list(
        Charge.objects.filter(contract=contract, status="pending")
        .order_by("period_start")
        .values_list("period_start", "period_end", "amount")
    )
    assert rows[-1] == (dt.date(2026, 3, 1), dt.date(2026, 3, 10), Decimal("967.74"))
    assert len(rows) == 3  # Jan, Feb, and Mar 1–10 (3000 × 10/31)
