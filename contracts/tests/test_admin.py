"""Customers and contracts in the admin: lists, forms that write through the
services, read-only signed contracts, and the Sign / Terminate actions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import Charge
from contracts.models import Contract, Customer, Fee
from contracts.services import FeeInput
from contracts.tests.factories import CustomerFactory, make_contract

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 3, 15)
VALID_CREDIT_CODE = "91110108MA01A2B3CF"


def on_day(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(12), SHANGHAI), tick=False)


@pytest.fixture
def today():
    with on_day(TODAY):
        yield TODAY


def contract_form_data(
    customer: Customer,
    *,
    number="HT-ADMIN-1",
    service_start="2026-04-01",
    service_end="",
    fees=(),
    existing=(),
    currency="CNY",
    **overrides,
) -> dict:
    """POST data of the contract change form: the contract's fields, then its fee
    rows (``existing`` are (fee, changes) pairs of rows already saved)."""
    data = {
        "number": number,
        "customer": str(customer.pk),
        "currency": currency,
        "payment_method": "bank_transfer",
        "service_start": service_start,
        "service_end": service_end,
        "alignment": "calendar",
        "proration": "daily",
        **overrides,
    }
    rows = [
        {
            "id": str(fee.pk),
            "kind": fee.kind,
            "amount": str(fee.amount.amount),
            "cycle": fee.cycle,
            "treatment": fee.treatment,
            **changes,
        }
        for fee, changes in existing
    ]
    rows += [{"id": "", "cycle": "", "treatment": "", **row} for row in fees]
    data.update(
        {
            "fees-TOTAL_FORMS": str(len(rows)),
            "fees-INITIAL_FORMS": str(len(existing)),
            "fees-MIN_NUM_FORMS": "0",
            "fees-MAX_NUM_FORMS": "1000",
        }
    )
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"fees-{index}-{key}"] = value
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Customers -------------------------------------------------------------------


def test_customer_changelist_lists_customers_with_their_contract_count(admin_client):
    customer = CustomerFactory(code="C-LIST-1", name="上海甲公司", credit_code=VALID_CREDIT_CODE)
    make_contract(customer=customer)
    make_contract(customer=customer)
    CustomerFactory(code="C-LIST-2", currency="USD")

    response = admin_client.get(reverse("admin:contracts_customer_changelist"))

    assert response.status_code == 200
    results = list(response.context["cl"].result_list)
    assert {c.code for c in results} == {"C-LIST-1", "C-LIST-2"}
    counts = {c.code: c._contract_count for c in results}
    assert counts == {"C-LIST-1": 2, "C-LIST-2": 0}
    assert "上海甲公司" in response.text
    assert VALID_CREDIT_CODE in response.text


@pytest.mark.parametrize("query", ["C-FIND", "Findable", VALID_CREDIT_CODE, "findme@example.com"])
def test_customer_search_by_code_name_credit_code_and_email(admin_client, query):
    CustomerFactory(
        code="C-FIND",
        name="Findable Ltd",
        email="findme@example.com",
        credit_code=VALID_CREDIT_CODE,
    )
    CustomerFactory(code="C-OTHER", name="Other")

    response = admin_client.get(reverse("admin:contracts_customer_changelist"), {"q": query})

    assert [c.code for c in response.context["cl"].result_list] == ["C-FIND"]


def test_customer_filter_by_currency(admin_client):
    CustomerFactory(code="C-CNY")
    CustomerFactory(code="C-USD", currency="USD")

    response = admin_client.get(
        reverse("admin:contracts_customer_changelist"), {"currency__exact": "USD"}
    )

    assert [c.code for c in response.context["cl"].result_list] == ["C-USD"]


def test_customer_add_form_creates_the_customer(admin_client):
    response = admin_client.post(
        reverse("admin:contracts_customer_add"),
        {
            "code": "C-NEW",
            "name": "新客户",
            "email": "new@example.com",
            "currency": "CNY",
            "credit_code": VALID_CREDIT_CODE,
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    customer = Customer.objects.get(code="C-NEW")
    assert (customer.name, customer.credit_code) == ("新客户", VALID_CREDIT_CODE)
    assert LogEntry.objects.filter(object_id=str(customer.pk)).exists()


def test_customer_form_shows_an_invalid_credit_code_on_its_field(admin_client):
    response = admin_client.post(
        reverse("admin:contracts_customer_add"),
        {
            "code": "C-BAD",
            "name": "Bad",
            "email": "bad@example.com",
            "currency": "CNY",
            "credit_code": "91110108MA01A2B3CG",
        },
    )

    assert response.status_code == 200
    assert "credit_code" in response.context["adminform"].form.errors
    assert not Customer.objects.filter(code="C-BAD").exists()


def test_customer_change_form_updates_through_the_service(admin_client):
    customer = CustomerFactory(code="C-EDIT", name="Old name")
    url = reverse("admin:contracts_customer_change", args=[customer.pk])

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "code": "C-EDIT",
            "name": "New name",
            "email": customer.email,
            "currency": "CNY",
            "credit_code": "",
        },
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "New name"


# --- Contracts: lists ---------------------------------------------------------------


def test_contract_changelist_lists_contracts_in_constant_queries(
    admin_client, django_assert_max_num_queries
):
    for i in range(12):
        make_contract(number=f"HT-LIST-{i:02d}", customer=CustomerFactory(name=f"列表客户{i}"))

    with django_assert_max_num_queries(7):
        response = admin_client.get(reverse("admin:contracts_contract_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 12
    assert "HT-LIST-00" in response.text
    assert "列表客户11" in response.text


def test_contract_filters_and_search(admin_client, today):
    a = make_contract(number="HT-F-A", service_start=dt.date(2026, 1, 1), signed_on=TODAY)
    make_contract(
        number="HT-F-B",
        service_start=dt.date(2026, 6, 1),
        alignment="anniversary",
        payment_method="alipay",
        customer=CustomerFactory(code="C-SEARCH", name="Searchable"),
    )
    url = reverse("admin:contracts_contract_changelist")

    def numbers(params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return sorted(c.number for c in response.context["cl"].result_list)

    assert numbers({"status__exact": a.status}) == ["HT-F-A"]
    assert numbers({"alignment__exact": "anniversary"}) == ["HT-F-B"]
    assert numbers({"payment_method__exact": "alipay"}) == ["HT-F-B"]
    assert numbers({"proration__exact": "daily"}) == ["HT-F-A", "HT-F-B"]
    assert numbers({"service_start_from": "2026-05-01"}) == ["HT-F-B"]
    assert numbers({"service_start_to": "2026-01-31"}) == ["HT-F-A"]
    assert numbers({"q": "HT-F-A"}) == ["HT-F-A"]
    assert numbers({"q": "C-SEARCH"}) == ["HT-F-B"]
    assert numbers({"q": "Searchable"}) == ["HT-F-B"]


# --- Contracts: forms -------------------------------------------------------------


def test_draft_contract_change_form_shows_its_fees(admin_client):
    contract = make_contract(
        fees=[
            FeeInput(kind="signing", amount="500.00", treatment="deposit"),
            FeeInput(kind="recurring", amount="3000.00", cycle="monthly"),
        ]
    )

    response = admin_client.get(reverse("admin:contracts_contract_change", args=[contract.pk]))

    assert response.status_code == 200
    (formset,) = [f.formset for f in response.context["inline_admin_formsets"]]
    assert len(formset.initial_forms) == 2
    assert formset.initial_forms[0].initial["amount"] == Decimal("500.00")
    assert 'name="_save"' in response.text


def test_add_form_creates_a_draft_contract_with_its_fees(admin_client):
    customer = CustomerFactory()
    data = contract_form_data(
        customer,
        fees=[
            {"kind": "signing", "amount": "800.00", "treatment": "prepayment"},
            {"kind": "recurring", "amount": "3000.00", "cycle": "quarterly"},
        ],
    )

    response = admin_client.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    contract = Contract.objects.get(number="HT-ADMIN-1")
    assert (contract.status, contract.customer, contract.service_start) == (
        "draft",
        customer,
        dt.date(2026, 4, 1),
    )
    fees = sorted(
        (f.kind, f.amount.amount, str(f.amount.currency), f.cycle, f.treatment)
        for f in contract.fees.all()
    )
    assert fees == [
        ("recurring", Decimal("3000.00"), "CNY", "quarterly", ""),
        ("signing", Decimal("800.00"), "CNY", "", "prepayment"),
    ]
    assert LogEntry.objects.filter(object_id=str(contract.pk)).exists()


def test_fee_rows_left_blank_are_not_fees(admin_client):
    data = contract_form_data(
        CustomerFactory(),
        fees=[
            {"kind": "", "amount": ""},
            {"kind": "recurring", "amount": "3000.00", "cycle": "monthly"},
            {"kind": "", "amount": ""},
        ],
    )

    response = admin_client.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(Fee.objects.values_list("kind", flat=True)) == ["recurring"]


def test_a_clerk_who_may_write_contracts_writes_their_fees(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts",
            codename__in=["add_contract", "change_contract", "view_contract"],
        )
    )
    client.force_login(clerk)
    data = contract_form_data(
        CustomerFactory(), fees=[{"kind": "recurring", "amount": "3000.00", "cycle": "monthly"}]
    )

    response = client.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(Fee.objects.values_list("contract__number", "kind")) == [
        ("HT-ADMIN-1", "recurring")
    ]


def test_fees_take_the_contract_currency(admin_client):
    customer = CustomerFactory(currency="USD")
    data = contract_form_data(
        customer, currency="USD", fees=[{"kind": "service_start", "amount": "120.50"}]
    )

    response = admin_client.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 302
    fee = Fee.objects.get(contract__number="HT-ADMIN-1")
    assert (fee.amount.amount, str(fee.amount.currency)) == (Decimal("120.50"), "USD")


def test_a_refused_fee_shows_the_service_message_on_its_row(admin_client):
    customer = CustomerFactory()
    data = contract_form_data(
        customer,
        fees=[
            {"kind": "service_start", "amount": "100.00"},
            {"kind": "recurring", "amount": "3000.00", "cycle": ""},
        ],
    )

    response = admin_client.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 200
    (formset,) = [f.formset for f in response.context["inline_admin_formsets"]]
    assert formset.forms[0].errors == {}
    assert "A recurring fee needs a cycle" in str(formset.forms[1].errors["cycle"])
    assert "A recurring fee needs a cycle" in response.text
    assert not Contract.objects.filter(number="HT-ADMIN-1").exists()


def test_a_refused_contract_field_shows_on_that_field(admin_client):
    data = contract_form_data(
        CustomerFactory(),
        service_start="2026-04-01",
        service_end="2026-03-01",
        fees=[{"kind": "recurring", "amount": "3000.00", "cycle": "monthly"}],
    )

    response = admin_client.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "must not be before the service start" in str(errors["service_end"])
    assert not Contract.objects.exists()
    assert not Fee.objects.exists()


def test_a_contract_without_fees_is_refused_above_the_fee_rows(admin_client):
    response = admin_client.post(
        reverse("admin:contracts_contract_add"), contract_form_data(CustomerFactory())
    )

    assert response.status_code == 200
    (formset,) = [f.formset for f in response.context["inline_admin_formsets"]]
    assert "A contract needs at least one fee." in formset.non_form_errors()
    assert not Contract.objects.exists()


def test_editing_a_draft_replaces_its_fees_through_the_service(admin_client):
    contract = make_contract(number="HT-EDIT", fees=[FeeInput("recurring", "3000.00", "monthly")])
    (fee,) = contract.fees.all()
    data = contract_form_data(
        contract.customer,
        number="HT-EDIT-2",
        service_start="2026-01-01",
        existing=[(fee, {"amount": "3500.00"})],
        fees=[{"kind": "service_start", "amount": "200.00"}],
    )

    response = admin_client.post(
        reverse("admin:contracts_contract_change", args=[contract.pk]), data
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    contract.refresh_from_db()
    assert contract.number == "HT-EDIT-2"
    assert sorted((f.kind, f.amount.amount) for f in contract.fees.all()) == [
        ("recurring", Decimal("3500.00")),
        ("service_start", Decimal("200.00")),
    ]


def test_editing_a_draft_without_touching_fees_keeps_them(admin_client):
    contract = make_contract(number="HT-KEEP")
    (fee,) = contract.fees.all()
    data = contract_form_data(
        contract.customer,
        number="HT-KEEP",
        service_start="2026-01-01",
        service_end="2026-12-31",
        existing=[(fee, {})],
    )

    response = admin_client.post(
        reverse("admin:contracts_contract_change", args=[contract.pk]), data
    )

    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.service_end == dt.date(2026, 12, 31)
    assert list(contract.fees.values_list("pk", flat=True)) == [fee.pk]


def test_a_signed_contract_is_read_only(admin_client, today):
    contract = make_contract(number="HT-SIGNED", signed_on=TODAY)
    url = reverse("admin:contracts_contract_change", args=[contract.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    assert 'name="_save"' not in response.text
    assert 'name="number"' not in response.text
    (inline,) = response.context["inline_admin_formsets"]
    assert not (inline.has_add_permission or inline.has_change_permission)
    assert not inline.has_delete_permission


def test_editing_a_signed_contract_is_refused(admin_client, today):
    contract = make_contract(number="HT-FROZEN", signed_on=TODAY)
    (fee,) = contract.fees.all()
    data = contract_form_data(
        contract.customer,
        number="HT-CHANGED",
        service_start="2026-01-01",
        existing=[(fee, {"amount": "1.00"})],
    )

    response = admin_client.post(
        reverse("admin:contracts_contract_change", args=[contract.pk]), data
    )

    assert response.status_code == 403
    contract.refresh_from_db()
    fee.refresh_from_db()
    assert (contract.number, contract.status) == ("HT-FROZEN", "active")
    assert fee.amount.amount == Decimal("3000.00")


def test_contracts_cannot_be_deleted_in_the_admin(admin_client):
    contract = make_contract()

    response = admin_client.post(
        reverse("admin:contracts_contract_delete", args=[contract.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Contract.objects.filter(pk=contract.pk).exists()


# --- Contracts: actions ------------------------------------------------------------


def run_action(client, action, contracts, **extra):
    return client.post(
        reverse("admin:contracts_contract_changelist"),
        {"action": action, "_selected_action": [str(c.pk) for c in contracts], **extra},
    )


def test_sign_action_asks_for_the_date_first(admin_client, today):
    contract = make_contract(number="HT-ASK")

    response = run_action(admin_client, "sign_contracts", [contract], index="0")

    assert response.status_code == 200
    assert response.context["form"]["on"].value() == TODAY
    assert "HT-ASK" in response.text
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_sign_action_signs_and_bills_the_selected_drafts(admin_client, today):
    first = make_contract(number="HT-SIGN-1", service_start=dt.date(2026, 3, 1))
    second = make_contract(number="HT-SIGN-2", service_start=dt.date(2026, 5, 1))

    response = run_action(
        admin_client, "sign_contracts", [first, second], apply="1", on="2026-03-10"
    )

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.signed_on) == ("active", dt.date(2026, 3, 10))
    assert (second.status, second.signed_on) == ("signed", dt.date(2026, 3, 10))
    # Signing bills what is already due: March for the first, nothing yet for the second.
    assert list(Charge.objects.values_list("contract__number", "period_start")) == [
        ("HT-SIGN-1", dt.date(2026, 3, 1))
    ]
    assert "2 contracts signed." in messages_of(response)


def test_sign_action_reports_each_refusal(admin_client, today):
    draft = make_contract(number="HT-OK")
    signed = make_contract(number="HT-ALREADY", signed_on=TODAY)

    response = run_action(
        admin_client, "sign_contracts", [draft, signed], apply="1", on="2026-03-15"
    )

    texts = messages_of(response)
    assert "1 contract signed." in texts
    assert any(t.startswith("HT-ALREADY: ") and "cannot become" in t for t in texts)
    draft.refresh_from_db()
    assert draft.status == "active"


def test_sign_action_refuses_a_future_date(admin_client, today):
    contract = make_contract(number="HT-FUTURE")

    response = run_action(admin_client, "sign_contracts", [contract], apply="1", on="2026-03-16")

    assert any("cannot be signed in the future" in t for t in messages_of(response))
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_sign_action_with_an_invalid_date_shows_the_form_again(admin_client, today):
    contract = make_contract(number="HT-NODATE")

    response = run_action(admin_client, "sign_contracts", [contract], apply="1", on="soon")

    assert response.status_code == 200
    assert response.context["form"].errors["on"]
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_terminate_action_ends_service_on_the_date(admin_client, today):
    contract = make_contract(number="HT-END", signed_on=dt.date(2026, 1, 5))

    response = run_action(
        admin_client, "terminate_contracts", [contract], apply="1", on="2026-03-20"
    )

    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.service_end) == ("terminated", dt.date(2026, 3, 20))
    assert "1 contract terminated." in messages_of(response)


def test_terminate_action_refuses_a_draft(admin_client, today):
    contract = make_contract(number="HT-DRAFT-END")

    response = run_action(
        admin_client, "terminate_contracts", [contract], apply="1", on="2026-03-20"
    )

    assert any(t.startswith("HT-DRAFT-END: ") for t in messages_of(response))
    contract.refresh_from_db()
    assert contract.status == "draft"
