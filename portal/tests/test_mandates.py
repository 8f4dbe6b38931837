"""Direct debit in the portal: authorised only with the consent text confirmed, which
is recorded with who, when and from where; revoked by the customer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from payments.models import Mandate
from portal.models import MandateConsent
from portal.services import mandate_consent_text
from portal.services.mandates import text_digest

pytestmark = pytest.mark.django_db

URL = "/portal/mandates/"
IBAN = "DE89370400440532013000"


def authorise(portal, customer, **overrides):
    data = {
        "debtor_name": "上海星辰贸易有限公司",
        "debtor_iban": "DE89 3704 0044 0532 0130 00",
        "debtor_bic": "",
        "limit_0": "5000.00",
        "limit_1": "CNY",
        "consent": "on",
        "text_sha256": text_digest(mandate_consent_text(customer)),
        **overrides,
    }
    return portal.post(
        URL, data, follow=True, HTTP_USER_AGENT="Mobile Safari", REMOTE_ADDR="203.0.113.5"
    )


def test_the_page_shows_the_authorisation_text(portal, customer):
    page = portal.get(URL).content.decode()
    assert mandate_consent_text(customer) in page
    assert customer.name in mandate_consent_text(customer)


def test_authorising_records_the_mandate_and_the_consent_shown(portal, customer, user):
    response = authorise(portal, customer)
    assert "is authorised" in response.content.decode()

    mandate = Mandate.objects.get(customer=customer)
    assert (mandate.status, mandate.debtor_iban) == ("active", IBAN)
    assert str(mandate.limit.amount) == "5000.00"
    consent = MandateConsent.objects.get(mandate=mandate)
    assert consent.user == user
    assert consent.text_shown == mandate_consent_text(customer)
    assert (consent.ip_address, consent.user_agent) == ("203.0.113.5", "Mobile Safari")
    actions = set(
        AuditEvent.objects.filter(object_id=str(mandate.pk)).values_list("action", flat=True)
    )
    assert {"mandate.created", "mandate.consented"} <= actions
    assert 'data-testid="active-mandate"' in response.content.decode()
    assert IBAN not in response.content.decode()  # the account is shown masked


def test_without_the_consent_box_nothing_is_authorised(portal, customer):
    response = authorise(portal, customer, consent="")
    assert response.status_code == 200
    assert not Mandate.objects.exists()


def test_a_text_other_than_the_one_shown_now_is_not_recorded_as_agreed(portal, customer):
    response = authorise(portal, customer, text_sha256="0" * 64)
    assert "has changed" in response.content.decode()
    assert not Mandate.objects.exists()


def test_an_invalid_account_is_refused_on_its_field(portal, customer):
    response = authorise(portal, customer, debtor_iban="DE00123")
    assert "IBAN" in response.content.decode()
    assert not Mandate.objects.exists()


def test_revoking_stops_the_mandate_and_offers_a_new_authorisation(portal, customer):
    authorise(portal, customer)
    mandate = Mandate.objects.get(customer=customer)
    response = portal.post(reverse("portal:mandate_revoke", args=[mandate.pk]), follow=True)
    mandate.refresh_from_db()
    assert mandate.status == "revoked"
    assert mandate.revoked_at is not None
    page = response.content.decode()
    assert "is revoked" in page
    assert mandate_consent_text(customer) in page  # a new one can be authorised
    assert AuditEvent.objects.filter(action="mandate.revoked", object_id=str(mandate.pk)).exists()

    # Revoking again changes nothing.
    again = portal.post(reverse("portal:mandate_revoke", args=[mandate.pk]), follow=True)
    assert "not active" in again.content.decode()


def test_a_second_authorisation_while_one_is_active_is_refused(portal, customer):
    authorise(portal, customer)
    response = authorise(portal, customer)
    assert Mandate.objects.filter(customer=customer).count() == 1
    assert "revoke it first" in response.content.decode()


def test_the_service_refuses_a_second_active_mandate_too(customer, user):
    from feemgmt.core.exceptions import BusinessError
    from portal.services import portal_mandate_authorise

    values = {
        "customer": customer,
        "user": user,
        "debtor_name": "甲",
        "debtor_iban": IBAN,
        "text_shown": mandate_consent_text(customer),
    }
    portal_mandate_authorise(**values)
    with pytest.raises(BusinessError, match="revoke it first"):
        portal_mandate_authorise(**values)
