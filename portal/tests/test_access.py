"""Scoping: a customer's login sees only its customer's rows; another customer's ids
answer 404 (never 403, never data); staff and customers keep to their own doors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from payments.models import Mandate
from portal.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def others_mandate(other_customer):
    return Mandate.objects.create(
        customer=other_customer,
        reference="MNDT-OTHER",
        signed_on=dt.date(2026, 1, 5),
        debtor_name="王五",
        debtor_iban="DE89370400440532013000",
    )


def test_another_customers_ids_answer_404_on_every_page_and_action(
    portal, charge, others_charge, others_mandate
):
    contract = others_charge.contract
    pages = [
        ("get", reverse("portal:contract", args=[contract.pk])),
        ("get", reverse("portal:charge", args=[others_charge.pk])),
        ("post", reverse("portal:charge_pay", args=[others_charge.pk])),
        ("post", reverse("portal:charge_sandbox_complete", args=[others_charge.pk])),
        ("post", reverse("portal:mandate_revoke", args=[others_mandate.pk])),
    ]
    for method, url in pages:
        response = getattr(portal, method)(url)
        assert response.status_code == 404, url
        assert contract.number.encode() not in response.content
    others_charge.refresh_from_db()
    others_mandate.refresh_from_db()
    assert others_charge.status == "pending"
    assert not others_charge.attempts.exists()
    assert others_mandate.status == "active"


def test_ids_that_do_not_exist_answer_the_same_404(portal, charge):
    assert portal.get(reverse("portal:charge", args=[999999])).status_code == 404
    assert portal.get(reverse("portal:contract", args=[999999])).status_code == 404


def test_lists_never_show_another_customers_rows(portal, charge, others_charge):
    others = others_charge.contract.number
    for name in ("overview", "contracts", "charges", "payments", "mandates"):
        response = portal.get(reverse(f"portal:{name}"))
        assert response.status_code == 200, name
        assert others.encode() not in response.content, name
    assert charge.contract.number in portal.get(reverse("portal:charges")).content.decode()
    assert charge.contract.number in portal.get(reverse("portal:contracts")).content.decode()


def test_anonymous_visitors_are_sent_to_the_portal_login(client):
    response = client.get(reverse("portal:charges"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_a_staff_login_gets_404_on_portal_pages(client, admin_user):
    client.force_login(admin_user)
    for name in ("overview", "charges", "mandates"):
        assert client.get(reverse(f"portal:{name}")).status_code == 404


def test_a_customer_login_never_enters_the_admin(client, user):
    # Logged in through the portal: the admin sends it to its own login page.
    client.post(reverse("portal:login"), {"username": "alice", "password": PASSWORD})
    assert client.get(reverse("portal:overview")).status_code == 200
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    # And the admin's login form refuses it, right password or not.
    client.logout()
    response = client.post(
        reverse("admin:login"), {"username": "alice", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not user.is_staff
