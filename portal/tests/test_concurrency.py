"""On real PostgreSQL: a customer's logins authorising at the same moment (two
phones, a double tap) end with one active mandate, and every other request told so;
paying the same charge twice at once takes the money once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from contracts.tests.factories import CustomerFactory
from feemgmt.core.exceptions import BusinessError
from payments.adapters.sandbox import GATEWAY
from payments.models import Mandate
from payments.tests.collection_helpers import DAY, billed_charge
from portal.models import MandateConsent
from portal.services import mandate_consent_text, portal_charge_pay, portal_mandate_authorise
from tests.clock import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def together(call):
    """Run ``call`` in THREADS threads released at once; their results or errors."""
    start = threading.Barrier(THREADS)

    def run(_index):
        try:
            start.wait(timeout=30)
            return call()
        except BusinessError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_concurrent_authorisations_make_one_active_mandate(django_user_model):
    customer = CustomerFactory()
    user = django_user_model.objects.create_user("alice", "alice@example.com", "pw")
    text = mandate_consent_text(customer)

    results = together(
        lambda: portal_mandate_authorise(
            customer=customer,
            user=user,
            debtor_name="甲",
            debtor_iban="DE89370400440532013000",
            text_shown=text,
        )
    )

    assert sum(isinstance(result, Mandate) for result in results) == 1
    refused = [result for result in results if isinstance(result, BusinessError)]
    assert len(refused) == THREADS - 1
    assert all("revoke it first" in str(error.messages()) for error in refused)
    assert Mandate.objects.filter(customer=customer).count() == 1
    assert MandateConsent.objects.count() == 1


def test_paying_the_same_charge_at_once_takes_the_money_once():
    charge = billed_charge("640.00")

    def pay():
        with at(DAY):
            return portal_charge_pay(customer=charge.contract.customer, charge_id=charge.pk)

    together(pay)
    charge.refresh_from_db()
    assert charge.status == "paid"
    assert charge.attempts.filter(status="succeeded").count() == 1
    assert len(GATEWAY.debits()) == 1
