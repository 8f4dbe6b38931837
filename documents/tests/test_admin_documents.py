"""Staff download a customer's documents from the admin: the receipt of a paid
charge (one, or several as one PDF by the list's action) and a customer's
statement for a chosen period; unpaid charges are not listed nor rendered, and
staff without the permissions the figures need are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents.receipts import receipt_number
from payments.tests.collection_helpers import billed_charge
from reports.tests.books import charge, contract_for

from .conftest import paid_charge, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def test_the_receipts_list_shows_paid_charges_only(staff, customer):
    paid = paid_charge("1200.00", customer=customer)
    unpaid = billed_charge("600.00", customer=customer)
    page = staff.get(reverse("admin:documents_receiptcharge_changelist")).content.decode()
    assert reverse("admin:documents_receiptcharge_pdf", args=[paid.pk]) in page
    assert reverse("admin:documents_receiptcharge_pdf", args=[unpaid.pk]) not in page


def test_staff_download_a_receipt(staff, customer):
    paid = paid_charge("1200.00", customer=customer)
    response = staff.get(reverse("admin:documents_receiptcharge_pdf", args=[paid.pk]))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert receipt_number(paid.pk) in text and "人民币壹仟贰佰元整" in text


def test_an_unpaid_charge_is_refused_with_the_reason(staff, customer):
    unpaid = billed_charge("600.00", customer=customer)
    response = staff.get(
        reverse("admin:documents_receiptcharge_pdf", args=[unpaid.pk]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("admin:documents_receiptcharge_changelist")
    assert "Only a paid charge has a receipt; this one is Pending collection." in (
        response.content.decode()
    )


def test_the_action_gathers_several_receipts(staff, customer):
    first = paid_charge("100.00", customer=customer)
    second = paid_charge("250.50")
    response = staff.post(
        reverse("admin:documents_receiptcharge_changelist"),
        {"action": "download_receipts", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert receipt_number(first.pk) in text and receipt_number(second.pk) in text
    assert "人民币壹佰元整" in text and "人民币贰佰伍拾元伍角" in text


def test_staff_download_a_statement(staff, customer):
    made = charge(contract_for(customer), "880.00", dt.date(2026, 5, 6))
    url = reverse("admin:documents_statementcustomer_statement", args=[customer.pk])

    form = staff.get(url)
    assert form.status_code == 200 and b'name="date_from"' in form.content

    response = staff.get(url, {"date_from": "2026-05-01", "date_to": "2026-05-31"})
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "上海星辰贸易有限公司" in text and "880.00" in text and made.contract.number in text

    refused = staff.get(url, {"date_from": "2026-05-31", "date_to": "2026-05-01"})
    assert refused.status_code == 400


def test_staff_without_the_permissions_are_refused(client, django_user_model, customer):
    clerk = django_user_model.objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(clerk)
    paid = paid_charge("1200.00", customer=customer)
    assert client.get(reverse("admin:documents_receiptcharge_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:documents_receiptcharge_pdf", args=[paid.pk])).status_code == 403
    )
    statement = reverse("admin:documents_statementcustomer_statement", args=[customer.pk])
    assert client.get(statement).status_code == 403

    clerk.user_permissions.add(
        Permission.objects.get(codename="view_charge"),
        Permission.objects.get(codename="view_account"),
    )
    assert (
        client.get(reverse("admin:documents_receiptcharge_pdf", args=[paid.pk])).status_code == 200
    )
    assert client.get(statement).status_code == 200


def test_the_action_reads_a_fixed_number_of_queries(staff, customer):
    """Two queries read every selected charge's settlements, however many."""
    url = reverse("admin:documents_receiptcharge_changelist")
    few = [paid_charge("100.00", customer=customer).pk for _ in range(2)]

    def download(ids):
        with CaptureQueriesContext(connection) as queries:
            response = staff.post(url, {"action": "download_receipts", "_selected_action": ids})
        assert response["Content-Type"] == "application/pdf"
        return len(queries.captured_queries)

    before = download(few)
    more = few + [paid_charge("200.00").pk for _ in range(4)]
    assert download(more) == before
