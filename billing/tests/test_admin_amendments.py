"""Fee changes in the admin: a clerk proposes, a manager approves, staff record a
paper consent; no admin page edits a signed fee."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.choices import AmendmentStatus
from billing.models import AmendmentDecision, FeeAmendment
from contracts.tests.factories import make_contract
from tests.clock import at

from .amendment_helpers import propose

pytestmark = pytest.mark.django_db

SIGNED = dt.date(2026, 1, 10)
TODAY = dt.date(2026, 2, 10)
ADD = reverse("admin:billing_feeamendment_add")
CHANGELIST = reverse("admin:billing_feeamendment_changelist")


def staff_client(client, django_user_model, name, *perms):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["billing", "contracts"], codename__in=perms
        )
    )
    client.force_login(user)
    return user


@pytest.fixture
def contract():
    with at(SIGNED):
        return make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED)


def test_a_clerk_proposes_in_two_steps_and_sees_refusals_on_their_field(
    client, django_user_model, contract
):
    clerk = staff_client(
        client, django_user_model, "clerk", "add_feeamendment", "view_feeamendment"
    )
    fee = contract.fees.get()
    with at(TODAY):
        assert client.get(ADD).status_code == 200
        unknown = client.get(ADD, {"contract": "HT-NONE"})
        assert "No signed or active contract" in unknown.content.decode()
        second = client.get(ADD, {"contract": contract.number})
        assert second.context["form"].fields["fee"].choices == [(str(fee.pk), str(fee))]
        data = {
            "contract": contract.number,
            "fee": str(fee.pk),
            "new_amount": "3300.00",
            "effective_from": "2026-04-15",
            "reason": "服务范围扩大",
        }
        refused = client.post(ADD, data)
        assert "2026-05-01" in " ".join(refused.context["form"].errors["effective_from"])
        assert not FeeAmendment.objects.exists()
        done = client.post(ADD, {**data, "effective_from": "2026-04-01"})
    assert done.status_code == 302
    amendment = FeeAmendment.objects.get()
    assert (amendment.proposed_by, amendment.status) == (clerk, AmendmentStatus.PROPOSED)
    assert amendment.new_amount.amount == Decimal("3300.00")


def test_the_proposer_cannot_approve_a_manager_can(client, django_user_model, contract):
    perms = ("view_feeamendment", "add_feeamendment", "approve_feeamendment")
    manager = staff_client(client, django_user_model, "manager", *perms)
    amendment = propose(
        contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=manager,
        on=TODAY,
    )
    action = {"action": "approve_amendments", "_selected_action": [amendment.pk]}
    with at(TODAY):
        answer = client.post(CHANGELIST, action, follow=True)
    assert "someone other than its proposer" in answer.content.decode()
    assert FeeAmendment.objects.get().status == AmendmentStatus.PROPOSED
    staff_client(client, django_user_model, "second", *perms)
    with at(TODAY):
        client.post(CHANGELIST, action)
    assert FeeAmendment.objects.get().status == AmendmentStatus.SENT


def test_a_clerk_without_the_approval_permission_has_no_approve_action(
    client, django_user_model, contract
):
    staff_client(client, django_user_model, "clerk", "view_feeamendment", "add_feeamendment")
    with at(TODAY):
        page = client.get(CHANGELIST)
    assert (
        "approve_amendments" not in page.context["action_form"].fields["action"].choices.__str__()
    )


def test_staff_record_the_signed_paper_and_download_it(
    client, django_user_model, contract, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    clerk = django_user_model.objects.create_user("proposer", "p@example.com", "pw")
    amendment = propose(
        contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=clerk,
        on=TODAY,
    )
    staff_client(
        client,
        django_user_model,
        "manager",
        "view_feeamendment",
        "approve_feeamendment",
        "record_decision_feeamendment",
    )
    with at(TODAY):
        client.post(
            CHANGELIST, {"action": "approve_amendments", "_selected_action": [amendment.pk]}
        )
        url = reverse("admin:billing_feeamendment_decision", args=[amendment.pk])
        assert (
            url
            in client.get(
                reverse("admin:billing_feeamendment_change", args=[amendment.pk])
            ).content.decode()
        )
        missing = client.post(url, {"consented": "yes"})
        assert "Attach the consent" in missing.content.decode()
        done = client.post(
            url,
            {"consented": "yes", "document": SimpleUploadedFile("signed.pdf", b"%PDF-1.4 ok")},
        )
    assert done.status_code == 302
    assert AmendmentDecision.objects.get().channel == "paper"
    download = client.get(reverse("admin:billing_feeamendment_document", args=[amendment.pk]))
    assert b"".join(download.streaming_content) == b"%PDF-1.4 ok"


def test_no_admin_page_edits_a_signed_fee(admin_client, contract):
    fee = contract.fees.get()
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(
        {
            "fees-TOTAL_FORMS": "1",
            "fees-INITIAL_FORMS": "1",
            "fees-0-id": str(fee.pk),
            "fees-0-contract": str(contract.pk),
            "fees-0-kind": "recurring",
            "fees-0-cycle": "monthly",
            "fees-0-amount_0": "1.00",
            "fees-0-amount_1": "CNY",
        }
    )
    admin_client.post(url, data)
    fee.refresh_from_db()
    assert fee.amount.amount == Decimal("3000.00")
    # and the amendment admin has no change form that saves
    amendment_change = reverse("admin:billing_feeamendment_changelist")
    assert admin_client.get(amendment_change).status_code == 200
