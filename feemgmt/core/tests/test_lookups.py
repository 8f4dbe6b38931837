"""field__any: the same rows as __in, on both backends."""

import pytest

from contracts.models import Contract, Customer
from contracts.tests.factories import CustomerFactory, make_contract

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds():
    customers = [CustomerFactory() for _ in range(4)]
    wanted = [customers[0].pk, customers[2].pk, 10**9]
    assert sorted(Customer.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == sorted(
        Customer.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    codes = [customers[1].code, customers[3].code]
    assert set(Customer.objects.filter(code__any=codes)) == {customers[1], customers[3]}


def test_any_of_nothing_is_nothing_and_foreign_keys_work():
    contract = make_contract()
    assert list(Customer.objects.filter(pk__any=[])) == []
    assert list(Contract.objects.filter(customer_id__any=[contract.customer_id])) == [contract]
    assert Contract.objects.exclude(customer_id__any=[]).count() == 1
