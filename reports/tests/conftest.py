"""The dashboard tests' book (reports/tests/dashboard_book.py) as fixtures; a module
with a ``finance`` or ``book`` fixture of its own uses that one instead."""

import pytest

from .dashboard_book import demo_book, raise_alerts


@pytest.fixture
def finance(django_user_model):
    return django_user_model.objects.create_superuser("finance", "f@example.com", "pw")


@pytest.fixture
def book(finance):
    made = demo_book(user=finance)
    made["alerts"] = raise_alerts(made["late_cny"].customer)
    return made
