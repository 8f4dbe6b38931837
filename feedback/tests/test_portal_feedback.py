"""A customer gives feedback and answers the satisfaction survey in the portal:
in general, or invited after a payment or a fee change, about their own payment
or fee change only (another customer's id is 404), once per payment."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.template import Context, Template
from django.urls import reverse

from feedback import selectors
from feedback.models import Feedback, SurveyAnswer
from payments.services.collection import charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at

pytestmark = pytest.mark.django_db


def paid_attempt(customer=None):
    charge = billed_charge("300.00", customer=customer)
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
    return charge.attempts.get()


def survey(client, context=None, object_id=None, data=None):
    query = {}
    if context:
        query["context"] = context
    if object_id is not None:
        query["id"] = object_id
    url = reverse("portal:feedback:survey")
    if query:
        url += "?" + urlencode(query)
    return client.post(url, data) if data is not None else client.get(url)


def test_the_urls_are_under_the_portal():
    assert reverse("portal:feedback:index") == "/portal/feedback/"
    assert reverse("portal:feedback:survey") == "/portal/feedback/survey/"


def test_a_customer_gives_feedback(client, portal_user, customer):
    page = client.get(reverse("portal:feedback:give"))
    assert page.status_code == 200 and b'name="category"' in page.content

    response = client.post(
        reverse("portal:feedback:give"),
        {"category": "billing", "text": "  账单上的期间能否写得更清楚？ "},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("portal:feedback:index")
    assert "Thank you for your feedback." in response.content.decode()
    (feedback,) = Feedback.objects.all()
    assert (feedback.customer, feedback.user, feedback.category) == (
        customer,
        portal_user,
        "billing",
    )
    assert feedback.text == "账单上的期间能否写得更清楚？"


def test_empty_feedback_is_refused(client, portal_user):
    response = client.post(reverse("portal:feedback:give"), {"category": "billing", "text": "  "})
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_the_general_survey_offers_five_choices(client, portal_user, customer):
    page = survey(client).content.decode()
    assert page.count('type="radio"') == 5
    for value in range(1, 6):
        assert f'value="{value}"' in page

    response = survey(client, data={"score": "4", "comment": "很好"})

    assert response.status_code == 302
    (answer,) = SurveyAnswer.objects.all()
    assert (answer.score, answer.comment, answer.context, answer.context_id) == (
        4,
        "很好",
        "general",
        None,
    )
    assert answer.customer == customer
    # a general survey may be answered again later
    assert survey(client, data={"score": "5"}).status_code == 302


@pytest.mark.parametrize("score", ["0", "6", "", "x"])
def test_a_score_outside_1_to_5_is_refused(client, portal_user, score):
    response = survey(client, data={"score": score})
    assert response.status_code == 400
    assert not SurveyAnswer.objects.exists()


def test_the_survey_after_a_payment(client, portal_user, customer):
    attempt = paid_attempt(customer)

    page = survey(client, "payment", attempt.pk)
    assert page.status_code == 200 and "After a payment" in page.content.decode()
    assert survey(client, "payment", attempt.pk, {"score": "5"}).status_code == 302

    (answer,) = SurveyAnswer.objects.all()
    assert (answer.context, answer.context_id, answer.score) == ("payment", attempt.pk, 5)
    # once per payment: the page says so and a second post changes nothing
    again = survey(client, "payment", attempt.pk)
    assert "already answered" in again.content.decode() and b'type="radio"' not in again.content
    survey(client, "payment", attempt.pk, {"score": "1"})
    assert SurveyAnswer.objects.count() == 1


def test_another_customers_payment_is_404(client, portal_user):
    theirs = paid_attempt()
    assert survey(client, "payment", theirs.pk).status_code == 404
    assert survey(client, "payment", theirs.pk, {"score": "1"}).status_code == 404
    assert not SurveyAnswer.objects.exists()


@pytest.mark.parametrize(
    "query", [("payment", None), ("payment", "abc"), ("payment", "999999"), ("nonsense", "1")]
)
def test_a_survey_about_nothing_of_the_customers_is_404(client, portal_user, query):
    assert survey(client, *query).status_code == 404


def test_a_fee_change_is_found_through_the_customers_contracts(
    client, portal_user, customer, monkeypatch
):
    """The amendment model is reached by related names only; with a stand-in
    relation (a contract's charges) the lookup keeps to the customer's own."""
    assert survey(client, "fee_change", 999999).status_code == 404
    mine = billed_charge("100.00", customer=customer)
    theirs = billed_charge("100.00")
    monkeypatch.setattr(selectors, "AMENDMENT_PATHS", ("no_such_relation", "charges"))
    assert survey(client, "fee_change", mine.pk).status_code == 200
    assert survey(client, "fee_change", theirs.pk).status_code == 404
    assert survey(client, "fee_change", mine.pk, {"score": "2"}).status_code == 302
    assert SurveyAnswer.objects.get().context == "fee_change"


def test_the_invitation_link():
    html = Template(
        "{% load feedback_tags %}{% survey_url 'payment' 12 %}|{% survey_url %}"
    ).render(Context())
    assert html == "/portal/feedback/survey/?context=payment&amp;id=12|/portal/feedback/survey/"


def test_staff_and_visitors_have_no_survey(client, django_user_model):
    assert survey(client).status_code == 302  # to the portal login
    staff = django_user_model.objects.create_superuser("s", "s@example.com", "pw")
    client.force_login(staff)
    assert survey(client).status_code == 404
