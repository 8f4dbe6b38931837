"""The set-based seeder writes the rows the services write for the same plan: a
sample made both ways compares equal, row for row."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from audit.verification import audit_chain_verify
from contracts.choices import ContractStatus, Cycle, FeeKind, SigningTreatment
from contracts.demo.plan import ContractSpec, demo_plan
from contracts.demo.seed import demo_seed
from contracts.management.commands.demo_data import Command
from contracts.models import Contract, Customer, Fee
from contracts.services import FeeInput, customer_create
from contracts.triggers import suspended as fee_triggers_suspended
from feemgmt.core.exceptions import BusinessError
from tests.clock import at

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 28)
COUNT = 90  # every role of the plan: drafts, future, ended, terminated, each fee kind


def book() -> dict:
    """Everything the services decide about the book, keyed by code and number."""
    customers = {
        c.code: (c.name, c.email, c.currency, c.credit_code) for c in Customer.objects.all()
    }
    contracts = {
        c.number: (
            c.customer.code,
            c.currency,
            c.service_start,
            c.service_end,
            c.alignment,
            c.proration,
            c.payment_method,
            c.status,
            c.signed_on,
            c.terminated_at,
        )
        for c in Contract.objects.select_related("customer")
    }
    fees = {}
    for fee in Fee.objects.select_related("contract").order_by("contract__number", "id"):
        fees.setdefault(fee.contract.number, []).append(
            (fee.kind, fee.amount, fee.cycle, fee.treatment, fee.next_due_date)
        )
    return {"customers": customers, "contracts": contracts, "fees": fees}


class _Undo(Exception):
    pass


def through_the_services(specs: list[ContractSpec]) -> dict:
    """The book the services write for ``specs`` (as demo_data does), rolled back."""
    try:
        with transaction.atomic():
            customers = {}
            for spec in specs:
                c = spec.customer
                if c.code not in customers:
                    customers[c.code] = customer_create(
                        code=c.code,
                        name=c.name,
                        email=c.email,
                        currency=c.currency,
                        credit_code=c.credit_code,
                    )
                Command._create_contract(spec, customers[c.code])
            written = book()
            raise _Undo
    except _Undo:
        pass
    assert not Contract.objects.exists()
    return written


def both_ways(specs: list[ContractSpec], batch: int = 40) -> tuple[dict, dict]:
    with at(DAY):
        expected = through_the_services(specs)
        demo_seed(specs, batch=batch)
    return book(), expected


def test_the_seeder_writes_what_the_services_write():
    plan = list(demo_plan(count=COUNT, seed=4, today=DAY))
    seeded, expected = both_ways(plan)

    assert seeded == expected
    assert len(seeded["contracts"]) == COUNT
    statuses = {row[7] for row in seeded["contracts"].values()}
    assert statuses >= {
        ContractStatus.DRAFT,
        ContractStatus.SIGNED,
        ContractStatus.ACTIVE,
        ContractStatus.TERMINATED,
    }


def test_edges_the_plan_rarely_draws_are_written_alike():
    """Service starting today (active at once), and a termination before service
    starts (the fees' first due dates cleared, the signing fee's kept)."""
    base = next(demo_plan(count=1, seed=4, today=DAY))
    fees = (
        FeeInput(kind=FeeKind.RECURRING, cycle=Cycle.MONTHLY, amount="1000.00"),
        FeeInput(kind=FeeKind.SIGNING, treatment=SigningTreatment.FEE, amount="300.00"),
        FeeInput(kind=FeeKind.SERVICE_START, amount="200.00"),
    )
    edges = [
        replace(base, number="E-1", service_start=DAY, service_end=None, signed_on=DAY,
                terminate_on=None, fees=fees),
        replace(base, number="E-2", service_start=DAY + dt.timedelta(days=20), service_end=None,
                signed_on=DAY - dt.timedelta(days=5), terminate_on=DAY, fees=fees),
    ]  # fmt: skip
    seeded, expected = both_ways(edges)

    assert seeded == expected
    assert [seeded["contracts"][n][7] for n in ("E-1", "E-2")] == [
        ContractStatus.ACTIVE,
        ContractStatus.TERMINATED,
    ]
    signed = DAY - dt.timedelta(days=5)
    assert [due for *_terms, due in seeded["fees"]["E-2"]] == [None, signed, None]


def test_a_contract_the_services_would_refuse_is_refused_and_its_batch_not_written():
    plan = list(demo_plan(count=5, seed=4, today=DAY))
    bad = replace(plan[3], service_end=plan[3].service_start - dt.timedelta(days=1))
    with at(DAY), pytest.raises(BusinessError) as refused:
        demo_seed([*plan[:3], bad, plan[4]], batch=10)
    assert bad.number in refused.value.detail
    assert not Contract.objects.exists() and not Customer.objects.exists()


def test_a_second_run_adds_nothing_and_the_loads_are_audited():
    with at(DAY):
        demo_seed(demo_plan(count=30, seed=4, today=DAY), batch=12)
        again = demo_seed(demo_plan(count=45, seed=4, today=DAY), batch=12)

    assert (again.contracts_existing, again.contracts) == (30, 15)
    assert Contract.objects.count() == 45
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert actions == {"customers.loaded", "contracts.loaded", "fees.loaded"}
    assert audit_chain_verify().ok
    # the database refuses to change a signed fee in place...
    first = Fee.objects.filter(pk=Fee.objects.order_by("pk").first().pk)
    with pytest.raises(IntegrityError, match="cannot be changed in place"), transaction.atomic():
        first.update(amount=1)
    assert audit_chain_verify().ok
    # ...and one changed behind its back is caught
    with fee_triggers_suspended():
        first.update(amount=1)
    assert not audit_chain_verify().ok


def test_demo_data_set_based_loads_the_book_and_a_rerun_adds_nothing():
    from io import StringIO

    from django.core.management import call_command
    from django.utils.translation import gettext as _

    def run():
        out = StringIO()
        call_command(
            "demo_data",
            "--set-based",
            "--no-bill",
            "--contracts",
            "25",
            "--today",
            DAY.isoformat(),
            stdout=out,
            stderr=StringIO(),
        )
        return out.getvalue()

    with at(DAY):
        first, second = run(), run()
    assert Contract.objects.count() == 25
    line = _("  contracts created: %(new)d, already there: %(old)d")
    assert line % {"new": 25, "old": 0} in first
    assert line % {"new": 0, "old": 25} in second
