"""Two customers, each with a portal login and a charge, so that every test can
check one customer never reaches the other's rows."""

from __future__ import annotations

import pytest
from django.test import Client

from contracts.tests.factories import CustomerFactory
from payments.tests.collection_helpers import billed_charge
from portal.models import CustomerUser

PASSWORD = "Correct-horse-7"


def portal_login(customer, username: str, django_user_model):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD)
    CustomerUser.objects.create(user=user, customer=customer)
    return user


@pytest.fixture
def customer():
    return CustomerFactory(name="上海星辰贸易有限公司")


@pytest.fixture
def other_customer():
    return CustomerFactory(name="北京月光科技有限公司")


@pytest.fixture
def user(customer, django_user_model):
    return portal_login(customer, "alice", django_user_model)


@pytest.fixture
def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def charge(customer):
    """The customer's pending charge of 1200.00, paid through the sandbox."""
    return billed_charge("1200.00", customer=customer)


@pytest.fixture
def others_charge(other_customer):
    return billed_charge("777.00", customer=other_customer)
