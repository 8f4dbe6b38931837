"""On real PostgreSQL: a double tap on "Send" after a payment (eight requests at
once) records one answer; the others are told it was answered already."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from contracts.tests.factories import CustomerFactory
from feedback.models import SurveyAnswer
from feedback.services import survey_answer_submit
from feemgmt.core.exceptions import BusinessError
from payments.services.collection import charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from tests.clock import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def test_concurrent_answers_about_one_payment_make_one(django_user_model):
    customer = CustomerFactory()
    user = django_user_model.objects.create_user("alice", "alice@example.com", "pw")
    charge = billed_charge("100.00", customer=customer)
    with at(DAY):
        charge_collect(charge.pk, on=DAY)
    attempt = charge.attempts.get()
    start = threading.Barrier(THREADS)

    def answer(_index):
        try:
            start.wait(timeout=30)
            return survey_answer_submit(
                customer=customer, user=user, score=5, context="payment", context_id=attempt.pk
            )
        except BusinessError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(answer, range(THREADS)))

    assert sum(isinstance(result, SurveyAnswer) for result in results) == 1
    refused = [result for result in results if isinstance(result, BusinessError)]
    assert len(refused) == THREADS - 1
    assert {error.code for error in refused} == {"already_answered"}
    assert SurveyAnswer.objects.count() == 1
