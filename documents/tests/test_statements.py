"""The statement of account for a customer and a period equals the ledger: the
opening and closing balances are the customer's accounts' balances on those
days, and the lines between explain the difference, per currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from djmoney.money import Money

from contracts.tests.factories import CustomerFactory
from documents.services import statement_render
from documents.statements import statement_for_customer
from ledger.choices import AccountPurpose, normal_sign
from ledger.models import JournalLine
from ledger.postings import apply_prepaid, post_prepaid_refund, post_refund
from ledger.selectors import balances_for_customer
from reports.tests.books import charge, contract_for, pay, prepay, write_off
from reports.tests.books import reverse as reverse_entry

from .conftest import pdf_text

pytestmark = pytest.mark.django_db

MAY_1, MAY_31 = dt.date(2026, 5, 1), dt.date(2026, 5, 31)


def d(day: str) -> Decimal:
    return Decimal(day)


def book(customer):
    """Charges, payments, a prepayment spent on a charge, a write-off, a fee refund,
    a bounced payment and a prepaid refund, around May 2026 (see the figures in
    test_the_statement_of_may)."""
    contract = contract_for(customer)
    a = charge(contract, "1000.00", dt.date(2026, 4, 1))
    pay(a, "1000.00", dt.date(2026, 4, 5))
    prepay(customer, "300.00", "CNY", dt.date(2026, 4, 10), method="alipay")
    b = charge(contract, "2000.00", MAY_1)
    apply_prepaid(
        customer_id=customer.pk, amount=Money(d("300.00"), "CNY"), charge_id=b.pk, on=MAY_1
    )
    pay(b, "1200.00", dt.date(2026, 5, 3))
    c = charge(contract, "500.00", dt.date(2026, 5, 10))
    write_off(c, "500.00", dt.date(2026, 5, 12))
    post_refund(
        customer_id=customer.pk,
        amount=Money(d("200.00"), "CNY"),
        method="bank_transfer",
        reference="refund-a",
        charge_id=a.pk,
        on=dt.date(2026, 5, 15),
    )
    e = charge(contract, "800.00", dt.date(2026, 5, 20))
    bounced = pay(e, "800.00", dt.date(2026, 5, 21), method="alipay")
    reverse_entry(bounced, dt.date(2026, 5, 25))
    prepay(customer, "100.00", "CNY", dt.date(2026, 5, 28), method="alipay")
    post_prepaid_refund(
        customer_id=customer.pk,
        amount=Money(d("40.00"), "CNY"),
        method="alipay",
        reference="prepaid-refund",
        on=dt.date(2026, 5, 29),
    )
    charge(contract, "999.00", dt.date(2026, 6, 2))  # after the period
    usd = contract_for(customer, "USD")
    charge(usd, "100.00", dt.date(2026, 5, 5))


def ledger_position(customer, currency, *, before=None, upto=None) -> Decimal:
    """The customer's accounts' signed sum (owed less held) from the ledger itself."""
    lines = JournalLine.objects.filter(account__customer=customer, account__currency=currency)
    if before:
        lines = lines.filter(entry__effective_on__lt=before)
    if upto:
        lines = lines.filter(entry__effective_on__lte=upto)
    return lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def test_the_statement_of_may(customer):
    book(customer)
    other = CustomerFactory()
    pay(charge(contract_for(other), "7777.00", dt.date(2026, 5, 9)), "7777.00", MAY_31)

    statement = statement_for_customer(customer=customer, date_from=MAY_1, date_to=MAY_31)

    cny, usd = statement.sections
    assert (cny.currency, usd.currency) == ("CNY", "USD")
    assert cny.opening.amount == d("-300.00")  # the prepayment held on 1 May
    assert cny.charges.amount == d("3100.00")  # 2000 + 500 + 800 − 200 refunded
    assert cny.payments.amount == d("1300.00")  # 1200 + 800 − 800 bounced + 100
    assert cny.refunds.amount == d("240.00")  # 200 of a fee, 40 of the prepaid balance
    assert cny.write_offs.amount == d("500.00")
    assert cny.closing.amount == d("1240.00")
    assert (cny.receivable.amount, cny.prepaid.amount, cny.deposit.amount) == (
        d("1300.00"),
        d("60.00"),
        d("0.00"),
    )
    assert cny.opening + cny.charges - cny.payments + cny.refunds - cny.write_offs == cny.closing
    assert cny.lines[-1].balance == cny.closing
    # the statement is the ledger's, to the cent
    assert cny.opening.amount == ledger_position(customer, "CNY", before=MAY_1)
    assert cny.closing.amount == ledger_position(customer, "CNY", upto=MAY_31)
    assert (usd.opening.amount, usd.charges.amount, usd.closing.amount) == (
        d("0.00"),
        d("100.00"),
        d("100.00"),
    )
    # nothing of the other customer's
    assert all("7777" not in str(line.amount.amount) for line in cny.lines)


def test_the_closing_balance_is_the_customers_balance_today(customer):
    book(customer)
    statement = statement_for_customer(
        customer=customer, date_from=dt.date(2026, 6, 1), date_to=dt.date(2026, 12, 31)
    )
    for section in statement.sections:
        balances = balances_for_customer(customer_id=customer.pk, currency=section.currency)
        owed_less_held = sum(
            (
                money.amount * normal_sign(purpose) * normal_sign(AccountPurpose.RECEIVABLE)
                for purpose, money in balances.items()
            ),
            Decimal(0),
        )
        assert section.closing.amount == owed_less_held
        assert section.receivable == balances[AccountPurpose.RECEIVABLE]
        assert section.prepaid == balances[AccountPurpose.PREPAID]


def test_the_statement_pdf(portal_client, customer):
    book(customer)

    response = portal_client.get(
        reverse("portal:documents:statement"), {"date_from": "2026-05-01", "date_to": "2026-05-31"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "上海星辰贸易有限公司" in text
    assert "2026-05-01–2026-05-31" in text
    for figure in ("-300.00", "3,100.00", "1,300.00", "240.00", "500.00", "1,240.00"):
        assert figure in text, figure
    assert "Currency:USD" in text


def test_a_period_that_ends_before_it_starts_is_refused(portal_client):
    response = portal_client.get(
        reverse("portal:documents:statement"), {"date_from": "2026-05-31", "date_to": "2026-05-01"}
    )
    assert response.status_code == 400
    assert "before its start" in response.content.decode()


def test_a_period_longer_than_the_setting_is_refused(portal_client, settings):
    settings.DOCUMENTS_STATEMENT_MAX_DAYS = 31
    response = portal_client.get(
        reverse("portal:documents:statement"), {"date_from": "2026-05-01", "date_to": "2026-06-01"}
    )
    assert response.status_code == 400
    assert "at most 31 days" in response.content.decode()


def test_a_statement_reads_a_fixed_number_of_queries(customer, django_assert_num_queries):
    book(customer)
    with django_assert_num_queries(4):
        few = statement_for_customer(customer=customer, date_from=MAY_1, date_to=MAY_31)
    contract = contract_for(customer)
    for day in range(1, 29):
        made = charge(contract, "10.00", dt.date(2026, 5, day))
        pay(made, "10.00", dt.date(2026, 5, day))
    with django_assert_num_queries(4):
        many = statement_for_customer(customer=customer, date_from=MAY_1, date_to=MAY_31)
    assert len(many.sections[0].lines) == len(few.sections[0].lines) + 56


def test_a_customer_without_movements_gets_an_empty_statement(customer):
    document = statement_render(customer=customer, date_from=MAY_1, date_to=MAY_31)
    assert "Nobalanceandnomovementinthisperiod." in pdf_text(document.content)


def test_the_portal_statement_is_the_logged_in_customers_only(portal_client, customer):
    mine = charge(contract_for(customer), "321.00", dt.date(2026, 5, 2))
    theirs = charge(contract_for(CustomerFactory()), "654.00", dt.date(2026, 5, 2))

    response = portal_client.get(
        reverse("portal:documents:statement"), {"date_from": "2026-05-01", "date_to": "2026-05-31"}
    )

    text = pdf_text(response.content)
    assert mine.contract.number in text and "321.00" in text
    assert theirs.contract.number not in text and "654.00" not in text


def test_the_documents_page(portal_client):
    page = portal_client.get(reverse("portal:documents:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="date_from"' in html and 'name="date_to"' in html
    assert "No paid charges yet" in html
    assert f'href="{reverse("portal:documents:index")}" aria-current="page"' in html


def test_visitors_are_sent_to_the_login(client):
    response = client.get(reverse("portal:documents:statement"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
