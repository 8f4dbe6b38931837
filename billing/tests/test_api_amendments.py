"""The fee-change endpoints: propose, approve, the paper decision; scoped keys see
only their customer's; no API path edits a signed fee."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from billing.models import FeeAmendment
from contracts.tests.factories import make_contract
from integrations.services import api_key_create
from tests.clock import at

from .amendment_helpers import propose, staff

pytestmark = pytest.mark.django_db

SIGNED = dt.date(2026, 1, 10)
TODAY = dt.date(2026, 2, 10)
URL = "/api/v1/amendments/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def with_perms(user, *codenames):
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="billing", codename__in=codenames)
    )
    return user


@pytest.fixture
def contract():
    with at(SIGNED):
        return make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED)


def test_propose_approve_and_record_the_paper(django_user_model, contract, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    perms = ("add_feeamendment", "view_feeamendment", "approve_feeamendment")
    clerk = with_perms(staff(django_user_model, "clerk"), *perms)
    manager = with_perms(
        staff(django_user_model, "manager"), *perms, "record_decision_feeamendment"
    )
    fee = contract.fees.get()
    body = {
        "fee": fee.pk,
        "new_amount": "3300.00",
        "effective_from": "2026-04-01",
        "reason": "扩容",
    }
    with at(TODAY):
        bad = client_of(clerk).post(URL, {**body, "effective_from": "2026-04-02"}, format="json")
        assert bad.status_code == 400
        assert "effective_from" in bad.json()
        created = client_of(clerk).post(URL, body, format="json")
        assert created.status_code == 201, created.json()
        item = created.json()
        assert (item["status"], item["old_amount"], item["new_amount"]) == (
            "proposed",
            "3000.00",
            "3300.00",
        )
        approve = f"{URL}{item['id']}/approve/"
        same = client_of(clerk).post(approve)
        assert same.status_code == 400 and "approved_by" in same.json()
        approved = client_of(manager).post(approve)
        assert approved.json()["status"] == "sent"
        again = client_of(manager).post(approve)
        assert again.status_code == 409
        missing = client_of(manager).post(f"{URL}{item['id']}/consent/", {}, format="multipart")
        assert missing.status_code == 400 and "document" in missing.json()
        decision = client_of(manager).post(
            f"{URL}{item['id']}/consent/",
            {"document": SimpleUploadedFile("signed.pdf", b"%PDF ok")},
            format="multipart",
        )
    assert decision.status_code == 200, decision.json()
    assert decision.json()["status"] == "consented"
    assert decision.json()["decision"]["channel"] == "paper"
    assert decision.json()["decision"]["has_document"] is True


def test_a_refusal_on_paper_needs_no_document(django_user_model, contract):
    manager = with_perms(
        staff(django_user_model, "manager"),
        "view_feeamendment",
        "approve_feeamendment",
        "record_decision_feeamendment",
    )
    amendment = propose(
        contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=staff(django_user_model, "clerk"),
        on=TODAY,
    )
    with at(TODAY):
        client_of(manager).post(f"{URL}{amendment.pk}/approve/")
        answer = client_of(manager).post(
            f"{URL}{amendment.pk}/decline/", {"comment": "客户来函拒绝"}, format="multipart"
        )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "declined"
    assert answer.json()["decision"]["comment"] == "客户来函拒绝"


def test_a_clerk_without_the_approval_permission_gets_403(django_user_model, contract):
    clerk = with_perms(staff(django_user_model, "clerk"), "add_feeamendment", "view_feeamendment")
    amendment = propose(
        contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=staff(django_user_model, "other"),
        on=TODAY,
    )
    with at(TODAY):
        answer = client_of(clerk).post(f"{URL}{amendment.pk}/approve/")
    assert answer.status_code == 403
    assert FeeAmendment.objects.get().status == "proposed"


def test_a_scoped_key_sees_and_proposes_only_for_its_customer(django_user_model, contract):
    with at(SIGNED):
        other = make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED)
    proposer = staff(django_user_model, "clerk")
    theirs = propose(
        other.fees.get(), amount="3300", effective_from=dt.date(2026, 4, 1), by=proposer, on=TODAY
    )
    ours = propose(
        contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=proposer,
        on=TODAY,
    )
    user = with_perms(
        django_user_model.objects.create_user("erp"), "view_feeamendment", "add_feeamendment"
    )
    _key, secret = api_key_create(name="erp", user=user, customer=contract.customer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    with at(TODAY):
        assert [row["id"] for row in client.get(URL).json()["results"]] == [ours.pk]
        assert client.get(f"{URL}{theirs.pk}/").status_code == 404
        FeeAmendment.objects.filter(pk=ours.pk).update(status="withdrawn")
        refused = client.post(
            URL,
            {
                "fee": other.fees.get().pk,
                "new_amount": "1",
                "effective_from": "2026-05-01",
                "reason": "x",
            },
            format="json",
        )
    assert refused.status_code == 400 and "fee" in refused.json()


def test_no_api_path_edits_a_signed_fee(api, contract):
    fee = contract.fees.get()
    body = {"fees": [{"kind": "recurring", "cycle": "monthly", "amount": "1.00"}]}
    for method in (api.patch, api.put):
        answer = method(f"/api/v1/contracts/{contract.pk}/", body, format="json")
        assert answer.status_code in {400, 405, 409}
    assert api.post(f"/api/v1/amendments/{fee.pk}/", body, format="json").status_code in {404, 405}
    fee.refresh_from_db()
    assert fee.amount.amount == Decimal("3000.00")


def test_the_list_costs_the_same_for_more_changes(
    api, django_user_model, django_assert_num_queries
):
    proposer = staff(django_user_model, "clerk")
    for _ in range(2):
        with at(SIGNED):
            contract = make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED)
        propose(
            contract.fees.get(),
            amount="3300",
            effective_from=dt.date(2026, 4, 1),
            by=proposer,
            on=TODAY,
        )
    with django_assert_num_queries(3) as few:
        api.get(URL)
    for _ in range(5):
        with at(SIGNED):
            contract = make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED)
        propose(
            contract.fees.get(),
            amount="3300",
            effective_from=dt.date(2026, 4, 1),
            by=proposer,
            on=TODAY,
        )
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(api.get(URL).json()["results"]) == 7
