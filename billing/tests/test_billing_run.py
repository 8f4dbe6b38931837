"""The billing run as finance staff rely on it: every due charge exactly once,
nothing early, nothing after the end, catch-up after downtime."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from billing.models import Charge
from billing.services import billing_run
from billing.tasks import billing_run_task
from contracts.models import Contract, Fee
from contracts.services import FeeInput, contract_terminate
from contracts.tests.factories import make_contract, monthly
from feemgmt.core.exceptions import BusinessError
from tests.clock import at

pytestmark = pytest.mark.django_db


def charges(contract):
    return list(
        Charge.objects.filter(contract=contract)
        .order_by("due_date", "id")
        .values_list("kind", "period_start", "period_end", "due_date", "amount")
    )


def test_signing_charges_the_signing_fee_the_same_day():
    with at(dt.date(2026, 3, 10)):
        contract = make_contract(
            service_start=dt.date(2026, 4, 1),
            fees=[FeeInput(kind="signing", amount="5000.00", treatment="deposit"), monthly()],
            signed_on=dt.date(2026, 3, 10),
        )
    assert contract.status == "signed"
    assert charges(contract) == [("signing", None, None, dt.date(2026, 3, 10), Decimal("5000.00"))]


def test_run_creates_charges_due_on_or_before_the_date_and_nothing_later():
    with at(dt.date(2026, 1, 5)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 15),
            fees=[FeeInput(kind="service_start", amount="800.00"), monthly("3100.00")],
            signed_on=dt.date(2026, 1, 5),
        )
    assert charges(contract) == []
    billing_run(on=dt.date(2026, 1, 14))
    assert charges(contract) == []

    result = billing_run(on=dt.date(2026, 1, 15))
    assert result.charges_created == 2
    assert result.contracts_seen == 1
    assert result.totals()["CNY"].amount == Decimal("2500.00")  # 800 + 3100 × 17/31
    assert charges(contract) == [
        ("service_start", None, None, dt.date(2026, 1, 15), Decimal("800.00")),
        (
            "recurring",
            dt.date(2026, 1, 15),
            dt.date(2026, 1, 31),
            dt.date(2026, 1, 15),
            Decimal("1700.00"),
        ),
    ]
    billing_run(on=dt.date(2026, 2, 1))
    assert charges(contract)[-1] == (
        "recurring",
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
        dt.date(2026, 2, 1),
        Decimal("3100.00"),
    )


def test_run_is_idempotent():
    with at(dt.date(2026, 1, 1)):
        make_contract(service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 1))
    first = billing_run(on=dt.date(2026, 6, 1))
    again = billing_run(on=dt.date(2026, 6, 1))
    assert first.charges_created == 5  # Feb..Jun; January was billed at signing
    assert again.charges_created == 0
    assert Charge.objects.count() == 6


def test_catch_up_after_downtime_fills_every_missed_period():
    with at(dt.date(2025, 12, 20)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 1),
            alignment="anniversary",
            fees=[FeeInput(kind="recurring", cycle="quarterly", amount="9000.00")],
            signed_on=dt.date(2025, 12, 20),
        )
    # the scheduler was down all year: one run on Dec 1 catches up
    result = billing_run(on=dt.date(2026, 12, 1))
    assert result.charges_created == 4
    assert [c[1] for c in charges(contract)] == [
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 1),
        dt.date(2026, 7, 1),
        dt.date(2026, 10, 1),
    ]
    assert {c[4] for c in charges(contract)} == {Decimal("9000.00")}


def test_backdated_signing_catches_up_at_once():
    with at(dt.date(2026, 4, 10)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 31),
            alignment="anniversary",
            fees=[monthly("1000.00")],
            signed_on=dt.date(2026, 4, 10),
        )
    assert contract.status == "active"
    assert [(c[1], c[2]) for c in charges(contract)] == [
        (dt.date(2026, 1, 31), dt.date(2026, 2, 27)),
        (dt.date(2026, 2, 28), dt.date(2026, 3, 30)),
        (dt.date(2026, 3, 31), dt.date(2026, 4, 29)),
    ]


def test_no_charge_after_the_end_and_the_cut_period_is_prorated():
    with at(dt.date(2026, 1, 1)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 1),
            service_end=dt.date(2026, 3, 10),
            fees=[monthly("3100.00")],
            signed_on=dt.date(2026, 1, 1),
        )
    with at(dt.date(2026, 12, 31)):
        billing_run(on=dt.date(2026, 12, 31))
    assert [(c[1], c[2], c[4]) for c in charges(contract)] == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31), Decimal("3100.00")),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28), Decimal("3100.00")),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 10), Decimal("1000.00")),  # 3100 × 10/31
    ]
    contract.refresh_from_db()
    assert contract.status == "ended"
    assert Fee.objects.get(contract=contract).next_due_date is None


def test_termination_cancels_later_charges_and_recuts_the_current_one():
    with at(dt.date(2026, 1, 1)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 1),
            fees=[FeeInput(kind="recurring", cycle="quarterly", amount="9100.00")],
            signed_on=dt.date(2026, 1, 1),
        )
    billing_run(on=dt.date(2026, 4, 1))
    with at(dt.date(2026, 4, 15)):
        contract_terminate(contract=contract, end_date=dt.date(2026, 5, 10))
    with at(dt.date(2026, 12, 31)):
        billing_run(on=dt.date(2026, 12, 31))
    rows = list(
        Charge.objects.filter(contract=contract)
        .order_by("period_start")
        .values_list("period_start", "period_end", "amount", "status", "prorated")
    )
    assert rows == [
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31), Decimal("9100.00"), "pending", False),
        # Apr 1 – May 10 is 40 of the quarter's 91 days: 9100 × 40/91 = 4000.00
        (dt.date(2026, 4, 1), dt.date(2026, 5, 10), Decimal("4000.00"), "pending", True),
    ]
    contract.refresh_from_db()
    assert contract.status == "terminated"
    assert contract.service_end == dt.date(2026, 5, 10)


def test_termination_cuts_failed_and_overdue_charges_as_it_cuts_pending_ones():
    """A backdated end: every charge still to collect is cut, whatever collection made of
    it, or a declined February would be retried at the full price for a month of no
    service."""
    with at(dt.date(2026, 1, 1)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 1),
            fees=[monthly("2800.00")],
            signed_on=dt.date(2026, 1, 1),
        )
    with at(dt.date(2026, 4, 1)):
        billing_run(on=dt.date(2026, 4, 1))
    by_month = {c.period_start.month: c for c in Charge.objects.filter(contract=contract)}
    Charge.objects.filter(pk=by_month[2].pk).update(status="failed")
    Charge.objects.filter(pk=by_month[3].pk).update(status="overdue")
    with at(dt.date(2026, 4, 15)):
        contract_terminate(contract=contract, end_date=dt.date(2026, 2, 14))
    rows = list(
        Charge.objects.filter(contract=contract)
        .order_by("period_start")
        .values_list("period_start", "period_end", "amount", "status")
    )
    assert rows == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31), Decimal("2800.00"), "pending"),
        # Feb 1 – 14 of 28 days: 1400.00, still failed and retried at that price
        (dt.date(2026, 2, 1), dt.date(2026, 2, 14), Decimal("1400.00"), "failed"),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), Decimal("2800.00"), "cancelled"),
        (dt.date(2026, 4, 1), dt.date(2026, 4, 30), Decimal("2800.00"), "cancelled"),
    ]
    assert not Charge.objects.filter(contract=contract, status="cancelled").exclude(
        next_attempt_on=None
    )


def test_termination_before_service_start_cancels_the_start_fee():
    with at(dt.date(2026, 1, 5)):
        contract = make_contract(
            service_start=dt.date(2026, 1, 10),
            fees=[FeeInput(kind="service_start", amount="500.00"), monthly()],
            signed_on=dt.date(2026, 1, 5),
        )
    billing_run(on=dt.date(2026, 1, 10))
    with at(dt.date(2026, 1, 11)):
        contract_terminate(contract=contract, end_date=dt.date(2026, 1, 8))
    assert set(Charge.objects.filter(contract=contract).values_list("status", flat=True)) == {
        "cancelled"
    }
    billing_run(on=dt.date(2026, 3, 1))
    assert not Charge.objects.filter(contract=contract, status="pending").exists()


def test_a_run_for_a_future_date_is_refused_and_bills_nothing():
    with at(dt.date(2026, 1, 1)):
        contract = make_contract(service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 1))
    with at(dt.date(2026, 2, 28)), pytest.raises(BusinessError) as err:
        billing_run(on=dt.date(2026, 3, 1))
    assert "2026-03-01" in str(err.value)
    assert len(charges(contract)) == 1
    contract.refresh_from_db()
    assert contract.status == "active"


def test_the_billing_task_refuses_a_future_date():
    with at(dt.date(2026, 1, 1)):
        make_contract(service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 1))
    with at(dt.date(2026, 2, 28)), pytest.raises(BusinessError):
        billing_run_task.apply(args=("2026-03-01",), throw=True).get()
    assert Charge.objects.count() == 1


def test_drafts_are_never_billed():
    make_contract(service_start=dt.date(2026, 1, 1))
    assert billing_run(on=dt.date(2026, 12, 1)).charges_created == 0
    assert Charge.objects.count() == 0


def test_totals_are_kept_per_currency():
    with at(dt.date(2026, 1, 1)):
        make_contract(currency="USD", fees=[monthly("100.00")], signed_on=dt.date(2026, 1, 1))
        make_contract(currency="CNY", fees=[monthly("700.00")], signed_on=dt.date(2026, 1, 1))
    result = billing_run(on=dt.date(2026, 3, 1))
    assert {k: v.amount for k, v in result.totals().items()} == {
        "CNY": Decimal("1400.00"),
        "USD": Decimal("200.00"),
    }


def test_the_database_refuses_a_second_charge_for_the_same_fee_and_period():
    with at(dt.date(2026, 1, 1)):
        contract = make_contract(
            fees=[FeeInput(kind="signing", amount="1.00", treatment="fee"), monthly()],
            signed_on=dt.date(2026, 1, 1),
        )
    for charge in Charge.objects.filter(contract=contract):
        charge.pk = None
        with pytest.raises(IntegrityError), transaction.atomic():
            charge.save()


def test_run_cost_in_queries_does_not_grow_with_contracts(django_assert_max_num_queries):
    def run_with(count):
        Charge.objects.all().delete()
        Fee.objects.update(next_due_date=None)
        with at(dt.date(2026, 1, 1)):
            for _ in range(count):
                make_contract(service_start=dt.date(2026, 2, 1), signed_on=dt.date(2026, 1, 1))
        # A fixed number per run and per chunk, whatever the contracts: the chunk's
        # one audit event (read back, chain lock, head, insert) and the contracts'
        # status change event included, and the entry ids drawn before the entries go
        # in without RETURNING, and the one read of the chunk's consented fee changes.
        with django_assert_max_num_queries(35) as captured:
            result = billing_run(on=dt.date(2026, 6, 1), chunk_size=1000)
        return result, len(captured)

    run_with(1)  # the company's fee income account exists from the first run on
    small, small_queries = run_with(3)
    # 20, not more: past ~140 charges SQLite splits a bulk insert into batches of
    # 999 parameters, which adds a statement per batch (not per contract)
    large, large_queries = run_with(20)
    assert small.charges_created == 3 * 5  # Feb..Jun
    assert large.charges_created == 20 * 5  # the earlier ones were parked (no bookmark)
    assert small_queries == large_queries


def test_chunks_cover_every_fee_once():
    with at(dt.date(2026, 1, 1)):
        for _ in range(25):
            make_contract(service_start=dt.date(2026, 2, 1), signed_on=dt.date(2026, 1, 1))
    result = billing_run(on=dt.date(2026, 2, 1), chunk_size=4)
    assert result.chunks == 7
    assert result.fees_seen == 25
    assert Charge.objects.count() == 25


class TestBillCommand:
    def test_prints_a_summary(self, capsys):
        with at(dt.date(2026, 1, 1)):
            make_contract(service_start=dt.date(2026, 2, 1), signed_on=dt.date(2026, 1, 1))
        call_command("bill", "--date", "2026-03-01")
        out = capsys.readouterr().out
        assert "Billing run for 2026-03-01" in out
        assert "contracts seen: 1" in out
        assert "charges created: 2" in out
        assert "total CNY: 6000.00" in out

    def test_refuses_a_date_after_today_and_exits_non_zero(self):
        with at(dt.date(2026, 1, 1)):
            make_contract(service_start=dt.date(2026, 1, 1), signed_on=dt.date(2026, 1, 1))
        with at(dt.date(2026, 3, 1)), pytest.raises(CommandError, match="2026-03-02"):
            call_command("bill", "--date", "2026-03-02")
        assert Charge.objects.count() == 1  # January's, billed at signing

    def test_today_is_the_billing_time_zones_today(self, capsys):
        # 00:30 on March 2 in Shanghai is still March 1 in UTC.
        with at(dt.date(2026, 3, 2), hour=0):
            call_command("bill", "--date", "2026-03-02")
        assert "Billing run for 2026-03-02" in capsys.readouterr().out

    def test_rejects_a_malformed_date(self):
        with pytest.raises(CommandError, match="2026-13-01"):
            call_command("bill", "--date", "2026-13-01")
        assert not Contract.objects.exists()
