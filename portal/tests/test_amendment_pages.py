"""A customer reads a fee change in the portal and consents or declines; other
customers' changes do not exist for them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.choices import AmendmentStatus
from billing.models import AmendmentDecision, FeeAmendment
from billing.services.amendments import amendment_approve
from billing.tests.amendment_helpers import propose, staff
from contracts.tests.factories import make_contract
from portal.models import CustomerUser
from tests.clock import at

pytestmark = pytest.mark.django_db

SIGNED = dt.date(2026, 1, 10)
TODAY = dt.date(2026, 2, 10)


def portal_login(client, django_user_model, customer, name):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw")
    CustomerUser.objects.create(user=user, customer=customer)
    client.force_login(user)
    return user


@pytest.fixture
def sent(django_user_model):
    clerk, manager = staff(django_user_model, "clerk"), staff(django_user_model, "manager")
    with at(SIGNED):
        contract = make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED)
    amendment = propose(
        contract.fees.get(),
        amount="3300.00",
        effective_from=dt.date(2026, 4, 1),
        by=clerk,
        on=TODAY,
    )
    with at(TODAY):
        return amendment_approve(amendment=amendment, by=manager)


def test_the_customer_consents_to_the_text_shown(client, django_user_model, sent):
    user = portal_login(client, django_user_model, sent.contract.customer, "ap")
    with at(TODAY):
        index = client.get(reverse("portal:amendments"))
        assert index.status_code == 200
        assert "3300.00 CNY" in index.content.decode()
        page = client.get(reverse("portal:amendment", args=[sent.pk]))
        form = page.context["form"]
        shown = page.context["text"]
        assert shown in page.content.decode()
        decide = reverse("portal:amendment_decide", args=[sent.pk])
        # not ticked: nothing recorded
        client.post(decide, {"text_sha256": form.initial["text_sha256"], "decision": "consent"})
        assert not AmendmentDecision.objects.exists()
        answer = client.post(
            decide,
            {"text_sha256": form.initial["text_sha256"], "decision": "consent", "agree": "on"},
            HTTP_USER_AGENT="Mozilla/5.0 (iPhone)",
            REMOTE_ADDR="198.51.100.7",
        )
    assert answer.status_code == 302
    decision = AmendmentDecision.objects.get()
    assert (decision.user, decision.text_shown, decision.ip) == (user, shown, "198.51.100.7")
    assert decision.user_agent == "Mozilla/5.0 (iPhone)"
    assert FeeAmendment.objects.get().status == AmendmentStatus.CONSENTED
    with at(TODAY):
        after = client.get(reverse("portal:amendment", args=[sent.pk])).content.decode()
    assert 'data-testid="decision"' in after and "Consent</button>" not in after


def test_a_customer_can_decline(client, django_user_model, sent):
    portal_login(client, django_user_model, sent.contract.customer, "ap")
    with at(TODAY):
        page = client.get(reverse("portal:amendment", args=[sent.pk]))
        client.post(
            reverse("portal:amendment_decide", args=[sent.pk]),
            {
                "text_sha256": page.context["form"].initial["text_sha256"],
                "decision": "decline",
                "comment": "预算不足",
            },
        )
    decision = AmendmentDecision.objects.get()
    assert (decision.consented, decision.comment) == (False, "预算不足")
    assert FeeAmendment.objects.get().status == AmendmentStatus.DECLINED


def test_another_customers_change_is_404_and_changes_nothing(client, django_user_model, sent):
    with at(SIGNED):
        other = make_contract(signed_on=SIGNED)
    portal_login(client, django_user_model, other.customer, "intruder")
    with at(TODAY):
        assert client.get(reverse("portal:amendment", args=[sent.pk])).status_code == 404
        answer = client.post(
            reverse("portal:amendment_decide", args=[sent.pk]),
            {"text_sha256": "x", "decision": "consent", "agree": "on"},
        )
        listing = client.get(reverse("portal:amendments")).content.decode()
    assert answer.status_code == 404
    assert "3300.00" not in listing
    assert FeeAmendment.objects.get().status == AmendmentStatus.SENT


def test_a_change_not_yet_approved_is_not_shown(client, django_user_model):
    clerk = staff(django_user_model, "clerk")
    with at(SIGNED):
        contract = make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED)
    proposed = propose(
        contract.fees.get(),
        amount="3300.00",
        effective_from=dt.date(2026, 4, 1),
        by=clerk,
        on=TODAY,
    )
    portal_login(client, django_user_model, contract.customer, "ap")
    with at(TODAY):
        assert client.get(reverse("portal:amendment", args=[proposed.pk])).status_code == 404


def test_the_portal_has_no_way_to_edit_a_fee(client, django_user_model, sent):
    portal_login(client, django_user_model, sent.contract.customer, "ap")
    contract_url = reverse("portal:contract", args=[sent.contract.pk])
    with at(TODAY):
        client.post(contract_url, {"amount": "1.00", "fee": sent.fee_id})
    sent.fee.refresh_from_db()
    assert sent.fee.amount.amount == Decimal("3000.00")


def test_the_pages_cost_a_fixed_number_of_queries(
    client, django_user_model, sent, django_assert_max_num_queries
):
    portal_login(client, django_user_model, sent.contract.customer, "ap")
    with at(TODAY), django_assert_max_num_queries(8):
        client.get(reverse("portal:amendments"))
    with at(TODAY), django_assert_max_num_queries(8):
        client.get(reverse("portal:amendment", args=[sent.pk]))
