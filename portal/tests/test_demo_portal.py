"""The demo's portal logins and its fee change awaiting consent, made once."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import FeeAmendment
from contracts.tests.factories import make_contract, monthly
from portal.models import CustomerUser
from tests.clock import at

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)


def test_two_logins_and_one_change_sent_to_the_first_customer(django_user_model):
    for name in ("clerk", "manager"):
        django_user_model.objects.create_user(name, f"{name}@example.com", name, is_staff=True)
    with at(dt.date(2026, 1, 5)):
        first = make_contract(
            service_start=dt.date(2026, 1, 5),
            signed_on=dt.date(2026, 1, 5),
            fees=[monthly("2999.95")],
        )
        make_contract(service_start=dt.date(2026, 1, 5), signed_on=dt.date(2026, 1, 5))
    with at(TODAY):
        call_command("demo_portal", "--date", TODAY.isoformat(), stdout=StringIO())
        call_command("demo_portal", "--date", TODAY.isoformat(), stdout=StringIO())

    assert CustomerUser.objects.count() == 2
    assert (
        CustomerUser.objects.get(user__username="customer@example.com").customer == first.customer
    )
    change = FeeAmendment.objects.get()
    assert change.status == "sent"
    assert change.effective_from == dt.date(2026, 4, 1)
    assert change.new_amount.amount == Decimal("3299.95")  # 2999.95 × 1.1, to the fen
