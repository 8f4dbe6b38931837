"""A customer with a paid charge (collected through the sandbox gateway), a
portal login for it, and the text of a PDF."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from contracts.tests.factories import CustomerFactory
from payments.services.collection import charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from portal.models import CustomerUser
from tests.clock import at


def pdf_text(content: bytes) -> str:
    """Every page's text, with the layout's spaces and line breaks taken out (CJK
    text comes back split wherever a line wrapped)."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def paid_charge(amount="1200.00", *, customer=None):
    charge = billed_charge(amount, customer=customer)
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
    charge.refresh_from_db()
    assert charge.status == "paid"
    return charge


@pytest.fixture
def customer():
    return CustomerFactory(name="上海星辰贸易有限公司")


@pytest.fixture
def portal_client(client, customer, django_user_model):
    user = django_user_model.objects.create_user("alice", "alice@example.com", "pw")
    CustomerUser.objects.create(user=user, customer=customer)
    client.force_login(user)
    return client
