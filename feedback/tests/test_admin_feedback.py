"""Staff read the feedback and the survey answers in the admin, filtered, with
the average score per month and context of the answers the filters select
(one grouped query, whatever the number of answers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.tests.factories import CustomerFactory
from feedback.models import Feedback, SurveyAnswer
from feedback.selectors import monthly_averages
from feedback.services import feedback_submit, survey_answer_submit
from tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("s", "s@example.com", "pw"))
    return client


def answers(customer, scores, day, context="general", context_id=None):
    with at(day):
        for score in scores:
            SurveyAnswer.objects.create(
                customer=customer, score=score, context=context, context_id=context_id
            )


def test_averages_per_month_and_context(customer):
    answers(customer, [5, 4, 4], dt.date(2026, 3, 10))
    answers(customer, [1], dt.date(2026, 3, 31), "payment", 7)
    answers(customer, [2, 3], dt.date(2026, 4, 1))

    rows = [(r.month, r.context, r.answers, r.average) for r in monthly_averages()]

    assert rows == [
        (dt.date(2026, 4, 1), "general", 2, Decimal("2.50")),
        (dt.date(2026, 3, 1), "general", 3, Decimal("4.33")),
        (dt.date(2026, 3, 1), "payment", 1, Decimal("1.00")),
    ]


def test_a_month_is_a_month_in_shanghai(customer):
    """00:30 on 1 April in Shanghai is still 31 March in UTC: it counts in April."""
    answers(customer, [5], dt.date(2026, 4, 1))  # noon
    with at(dt.date(2026, 4, 1), hour=0):
        SurveyAnswer.objects.create(customer=customer, score=1)
    (row,) = monthly_averages()
    assert (row.month, row.answers) == (dt.date(2026, 4, 1), 2)


def test_the_averages_are_one_query(customer, django_assert_num_queries):
    answers(customer, [3] * 3, dt.date(2026, 5, 1))
    with django_assert_num_queries(1):
        monthly_averages()
    answers(customer, [4] * 30, dt.date(2026, 6, 1))
    with django_assert_num_queries(1):
        assert len(monthly_averages()) == 2


def test_the_admin_shows_the_averages_of_the_filtered_answers(staff, customer):
    answers(customer, [5, 3], dt.date(2026, 3, 10))
    answers(customer, [1], dt.date(2026, 3, 11), "payment", 9)

    page = staff.get(reverse("admin:feedback_surveyanswer_changelist")).content.decode()
    assert 'id="survey-averages"' in page
    assert 'data-month="2026-03" data-context="general"' in page and "4.00" in page

    only_payments = staff.get(
        reverse("admin:feedback_surveyanswer_changelist"), {"context__exact": "payment"}
    ).content.decode()
    assert 'data-context="payment"' in only_payments
    assert 'data-context="general"' not in only_payments


def test_the_answers_list_keeps_its_query_count(staff, customer, django_assert_max_num_queries):
    url = reverse("admin:feedback_surveyanswer_changelist")
    answers(customer, [4] * 3, dt.date(2026, 3, 10))
    staff.get(url)
    with django_assert_max_num_queries(12) as few:
        staff.get(url)
    answers(CustomerFactory(), [2] * 20, dt.date(2026, 3, 12))
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff.get(url)


def test_staff_read_feedback(staff, customer, django_user_model):
    user = django_user_model.objects.create_user("c1", "c1@example.com", "pw")
    feedback_submit(customer=customer, user=user, category="portal", text="手机上很好用")
    page = staff.get(reverse("admin:feedback_feedback_changelist"), {"category__exact": "portal"})
    assert "手机上很好用" in page.content.decode()
    assert staff.get(reverse("admin:feedback_feedback_add")).status_code == 403
    feedback = Feedback.objects.get()
    change = staff.get(reverse("admin:feedback_feedback_change", args=[feedback.pk]))
    assert change.status_code == 200 and "手机上很好用" in change.content.decode()


def test_the_services_refuse_what_the_form_would(customer, django_user_model):
    from feemgmt.core.exceptions import BusinessError

    user = django_user_model.objects.create_user("c2", "c2@example.com", "pw")
    with pytest.raises(BusinessError) as refused:
        survey_answer_submit(customer=customer, user=user, score=6)
    assert "score" in refused.value.detail
    with pytest.raises(BusinessError) as refused:
        survey_answer_submit(customer=customer, user=user, score=3, context="payment")
    assert refused.value.code == "not_found"
    with pytest.raises(BusinessError):
        feedback_submit(customer=customer, user=user, category="nonsense", text="x")
    with pytest.raises(BusinessError):
        feedback_submit(customer=customer, user=user, category="other", text="x" * 4001)
    assert not SurveyAnswer.objects.exists() and not Feedback.objects.exists()
