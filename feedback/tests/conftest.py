import pytest

from contracts.tests.factories import CustomerFactory
from portal.models import CustomerUser


@pytest.fixture
def customer():
    return CustomerFactory(name="杭州明湖科技有限公司")


def portal_login(client, django_user_model, customer, username="bob"):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw")
    CustomerUser.objects.create(user=user, customer=customer)
    client.force_login(user)
    return user


@pytest.fixture
def portal_user(client, django_user_model, customer):
    return portal_login(client, django_user_model, customer)
