"""A customer downloads the receipt of a paid charge from the portal: a PDF whose
text has the company, the customer, the contract, the period, the amount in
figures and in capitals, the day it was paid, the method and the gateway's
reference. Unpaid charges and other customers' charges have none (404)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from documents.receipts import receipt_for_charge, receipt_number
from documents.services import receipt_render
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger.postings import apply_prepaid, post_prepayment
from payments.tests.collection_helpers import billed_charge
from reports.tests.books import charge as booked_charge
from reports.tests.books import contract_for, pay
from reports.tests.books import customer as book_customer

from .conftest import paid_charge, pdf_text

pytestmark = pytest.mark.django_db


def test_the_receipt_of_a_paid_charge(portal_client, customer, settings):
    settings.COMPANY_NAME = "宁波海港物业服务有限公司"
    charge = paid_charge("1200.00", customer=customer)
    attempt = charge.attempts.get()

    response = portal_client.get(reverse("portal:documents:receipt", args=[charge.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{receipt_number(charge.pk)}.pdf"'
    )
    text = pdf_text(response.content)
    for expected in (
        "宁波海港物业服务有限公司",
        "上海星辰贸易有限公司",
        receipt_number(charge.pk),
        charge.contract.number,
        "2026-03-02–2026-04-01",  # the period
        "CNY1,200.00",
        "人民币壹仟贰佰元整",
        "Sandbox",  # the method's label
        attempt.provider_reference,
    ):
        assert expected in text, expected
    assert "Paidon2026-03-02" in text


def test_a_receipt_in_chinese(portal_client, customer, zh_hans):
    charge = paid_charge("3000.50", customer=customer)
    response = portal_client.get(reverse("portal:documents:receipt", args=[charge.pk]))
    text = pdf_text(response.content)
    assert "人民币叁仟元伍角" in text
    assert "CNY3,000.50" in text


def test_an_unpaid_charge_has_no_receipt(portal_client, customer):
    charge = billed_charge("800.00", customer=customer)  # due, not collected
    assert (
        portal_client.get(reverse("portal:documents:receipt", args=[charge.pk])).status_code == 404
    )
    with pytest.raises(BusinessError) as refused:
        receipt_render(charge=charge)
    assert "Only a paid charge has a receipt" in refused.value.messages()[0]


def test_another_customers_receipt_is_404(portal_client):
    theirs = paid_charge("500.00")
    response = portal_client.get(reverse("portal:documents:receipt", args=[theirs.pk]))
    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_the_portal_lists_only_own_paid_charges(portal_client, customer):
    mine = paid_charge("1200.00", customer=customer)
    unpaid = billed_charge("700.00", customer=customer)
    theirs = paid_charge("900.00")

    page = portal_client.get(reverse("portal:documents:index")).content.decode()

    assert reverse("portal:documents:receipt", args=[mine.pk]) in page
    assert reverse("portal:documents:receipt", args=[unpaid.pk]) not in page
    assert reverse("portal:documents:receipt", args=[theirs.pk]) not in page


def test_the_receipts_list_reads_a_fixed_number_of_queries(
    portal_client, customer, django_assert_max_num_queries
):
    for amount in ("100.00", "200.00", "300.00"):
        paid_charge(amount, customer=customer)
    # session, user, customer login, the page of charges with contracts, its count
    with django_assert_max_num_queries(6):
        portal_client.get(reverse("portal:documents:index"))
    for amount in ("400.00", "500.00"):
        paid_charge(amount, customer=customer)
    with django_assert_max_num_queries(6):
        portal_client.get(reverse("portal:documents:index"))


def test_a_charge_paid_partly_from_the_prepaid_balance():
    """Each settlement is on the receipt; the total is what settled the charge."""
    contract = contract_for(book_customer())
    made = booked_charge(contract, "1000.00", dt.date(2026, 5, 1), status="paid")
    post_prepayment(
        customer_id=contract.customer_id,
        amount=money("250.00", "CNY"),
        method="alipay",
        reference="top-up-1",
        on=dt.date(2026, 4, 20),
    )
    apply_prepaid(
        customer_id=contract.customer_id,
        amount=money("250.00", "CNY"),
        charge_id=made.pk,
        on=dt.date(2026, 5, 1),
    )
    pay(made, "750.00", dt.date(2026, 5, 3))

    receipt = receipt_for_charge(made)

    assert receipt.amount == money("1000.00", "CNY")
    assert receipt.capitals == "壹仟元整"
    assert [(s.on, s.amount.amount) for s in receipt.settlements] == [
        (dt.date(2026, 5, 1), Decimal("250.00")),
        (dt.date(2026, 5, 3), Decimal("750.00")),
    ]
    assert receipt.paid_on == dt.date(2026, 5, 3)
    text = pdf_text(receipt_render(charge=made).content)
    assert "Prepaidbalance" in text and "Banktransfer" in text
    assert "人民币壹仟元整" in text
