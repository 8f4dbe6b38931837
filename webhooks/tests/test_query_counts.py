"""What the outbox costs the changes it listens to.

With no endpoint subscribed to a type, an audit event of that type costs not one
query more than with no webhooks at all (the existing query-count tests of
billing, payments, reconciliation, alerts and risk hold this too); with one, a
whole billing chunk costs four statements more, however many charges it bills
(seven counted, and two COPYs, from 1,000 rows on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.services import alert_raise
from audit.events import recorded
from billing.models import Charge
from billing.services import billing_run, charge_settle, charges_settle
from contracts.models import Contract
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from tests.clock import at
from webhooks import receivers
from webhooks.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 1)


def _book(contracts: int) -> None:
    customer = CustomerFactory()
    with at(dt.date(2026, 2, 20)):
        for _ in range(contracts):
            make_contract(
                customer=customer,
                service_start=DAY,
                fees=[monthly()],
                signed_on=dt.date(2026, 2, 20),
            )


def _bill():
    with at(DAY):
        billing_run(on=DAY)


class _Off:
    """As if the webhooks app did not listen at all."""

    def __enter__(self):
        recorded.disconnect(dispatch_uid="webhooks.outbox")

    def __exit__(self, *exc):
        recorded.connect(receivers.on_audit_recorded, dispatch_uid="webhooks.outbox")


def _statements(work, *, heard: bool) -> int:
    """The statements of ``work``, undone afterwards so the next run starts alike."""
    with transaction.atomic():
        if heard:
            with CaptureQueriesContext(connection) as queries:
                work()
        else:
            with _Off(), CaptureQueriesContext(connection) as queries:
                work()
        transaction.set_rollback(True)
    return len(queries)


def _both(work) -> tuple[int, int]:
    return _statements(work, heard=False), _statements(work, heard=True)


def test_no_endpoint_means_not_one_query_more():
    _book(3)
    plain, heard = _both(_bill)
    assert plain == heard

    _bill()
    ids = list(Charge.objects.values_list("pk", flat=True))
    plain, heard = _both(lambda: (charge_settle(charge=ids[0]), charges_settle(charge_ids=ids)))
    assert plain == heard

    customer = CustomerFactory()
    plain, heard = _both(
        lambda: alert_raise(kind="charge_overdue", subject="s", message="m", customer=customer)
    )
    assert plain == heard
    assert not WebhookEvent.objects.exists()


def test_an_endpoint_for_other_types_costs_nothing_either(subscribe):
    subscribe("https://erp.example.com/hooks", "refund.succeeded")
    _book(3)
    plain, heard = _both(_bill)
    assert plain == heard


def test_subscribed_a_billing_chunk_costs_four_statements_whatever_its_size(subscribe):
    subscribe("https://erp.example.com/hooks", "charge.created")
    subscribe("https://bi.example.com/hooks", "charge.created", "charge.paid")
    extra = []
    for contracts in (2, 40):
        Contract.objects.all().delete()
        _book(contracts)
        plain = _statements(_bill, heard=False)
        with CaptureQueriesContext(connection) as queries:
            _bill()
        assert WebhookEvent.objects.filter(type="charge.created").count() == contracts
        assert WebhookDelivery.objects.count() == 2 * contracts
        WebhookEvent.objects.all().delete()
        Charge.objects.all().delete()
        extra.append(len(queries) - plain)
    # the endpoints, the charges' data, the events, the deliveries
    assert extra == [4, 4]


def test_a_bulk_settlement_is_one_event_per_charge_in_four_statements(subscribe):
    subscribe("https://erp.example.com/hooks", "charge.paid")
    _book(12)
    _bill()
    ids = list(Charge.objects.values_list("pk", flat=True))
    plain, heard = _both(lambda: charges_settle(charge_ids=ids))
    assert heard - plain == 4
    charges_settle(charge_ids=ids)
    paid = WebhookEvent.objects.filter(type="charge.paid")
    assert sorted(int(e.object_id) for e in paid) == sorted(ids)
    assert {e.payload["status"] for e in paid} == {"paid"}


def _charges(n: int) -> list[int]:
    """``n`` monthly charges of one fee, inserted directly (a big chunk's worth)."""
    contract = make_contract(service_start=dt.date(2000, 1, 1), fees=[monthly("10.00")])
    fee = contract.fees.get()
    rows = []
    for i in range(n):
        start = dt.date(2000 + i // 12, i % 12 + 1, 1)
        rows.append(
            Charge(
                contract=contract,
                fee=fee,
                kind="recurring",
                period_start=start,
                period_end=start + dt.timedelta(days=27),
                due_date=start,
                amount=fee.amount,
            )
        )
    return [charge.pk for charge in Charge.objects.bulk_create(rows)]


@pytest.mark.postgres
def test_a_chunk_past_the_copy_threshold_stays_a_fixed_number_of_statements(subscribe):
    from audit.services import audit_record_bulk

    subscribe("https://erp.example.com/hooks", "charge.created")
    subscribe("https://bi.example.com/hooks", "charge.created")
    counts = []
    for n in (1_100, 1_600):
        ids = _charges(n)

        def record(ids=ids):
            audit_record_bulk(action="billing.chunk", model=Charge, ids=ids, fields=("amount",))

        plain, heard = _both(record)
        counts.append(heard - plain)
        record()
        assert WebhookEvent.objects.filter(object_id__in=[str(pk) for pk in ids]).count() == n
        assert WebhookDelivery.objects.filter(event__object_id=str(ids[-1])).count() == 2
    # the endpoints, the charges' data, then the deliveries through a scratch table
    # (savepoint, create, insert … returning, drop, release); the two COPYs run on
    # psycopg2's own cursor, which Django does not count
    assert counts == [7, 7]
