"""Pay now: through the sandbox gateway end to end, a QR code drawn inline, bank
transfer instructions with the remittance reference; never for direct debits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_the_due_day():
    """The customer pays on the day the charges are due."""
    with at(DAY):
        yield


def pay(portal, charge):
    return portal.post(reverse("portal:charge_pay", args=[charge.pk]), follow=True)


def test_pay_now_collects_the_charge_through_the_sandbox(portal, charge):
    page = portal.get(reverse("portal:charge", args=[charge.pk])).content.decode()
    assert reverse("portal:charge_pay", args=[charge.pk]) in page

    response = pay(portal, charge)
    charge.refresh_from_db()
    assert charge.status == "paid"
    attempt = charge.attempts.get()
    assert (attempt.method, attempt.status) == ("sandbox", "succeeded")
    page = response.content.decode()
    assert "the charge is paid" in page
    assert reverse("portal:charge_pay", args=[charge.pk]) not in page  # nothing left to pay
    assert reverse("portal:documents:receipt", args=[charge.pk]) in page
    assert "1200.00 CNY" in portal.get(reverse("portal:payments")).content.decode()


def test_a_pending_payment_shows_its_qr_code_then_completes(portal, customer):
    charge = billed_charge("1200.91", customer=customer)  # the sandbox waits for a scan
    response = pay(portal, charge)
    charge.refresh_from_db()
    assert charge.status == "pending"
    attempt = charge.attempts.get()
    assert attempt.status == "pending"
    page = response.content.decode()
    assert 'data-testid="pay-qr"><svg' in page
    assert "sandbox://" not in page  # the code is drawn, not printed
    # Paying twice is not offered while the code is out.
    assert reverse("portal:charge_pay", args=[charge.pk]) not in page

    response = portal.post(reverse("portal:charge_sandbox_complete", args=[charge.pk]), follow=True)
    charge.refresh_from_db()
    assert charge.status == "paid"
    assert 'data-testid="pay-qr"' not in response.content.decode()


def test_bank_transfer_shows_the_account_and_the_remittance_reference(portal, customer):
    charge = billed_charge("880.00", method="bank_transfer", customer=customer)
    response = pay(portal, charge)
    attempt = charge.attempts.get()
    assert attempt.status == "pending"
    assert attempt.provider_reference
    page = response.content.decode()
    assert f'data-testid="remittance-reference">{attempt.provider_reference}<' in page
    assert "6222020200012345678" in page  # the payee account of the notices
    assert "880.00 CNY" in page


def test_direct_debit_charges_are_not_paid_from_the_portal(portal, customer):
    charge = billed_charge("500.00", method="auto_debit", customer=customer)
    page = portal.get(reverse("portal:charge", args=[charge.pk])).content.decode()
    assert reverse("portal:charge_pay", args=[charge.pk]) not in page
    response = pay(portal, charge)
    assert "collected by direct debit" in response.content.decode()
    assert not charge.attempts.exists()


def test_a_paid_charge_cannot_be_paid_again(portal, charge):
    pay(portal, charge)
    response = pay(portal, charge)
    assert "not open" in response.content.decode()
    assert charge.attempts.count() == 1
