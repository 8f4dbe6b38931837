"""Reads for feedback and surveys: whether a survey's context belongs to the
customer, and the averages staff see per month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import FieldError
from django.db.models import Avg, Count, QuerySet
from django.db.models.functions import TruncMonth

from contracts.models import Contract, Customer
from payments.models import PaymentAttempt

from .choices import SurveyContext
from .models import SurveyAnswer


def survey_context_belongs(customer: Customer, context: str, context_id: int | None) -> bool:
    """Whether the payment attempt or fee change a survey is about is the
    customer's (a general survey is about nothing in particular)."""
    if context == SurveyContext.GENERAL:
        return context_id is None
    if context_id is None:
        return False
    if context == SurveyContext.PAYMENT:
        return PaymentAttempt.objects.filter(
            pk=context_id, charge__contract__customer=customer
        ).exists()
    if context == SurveyContext.FEE_CHANGE:
        return _amendment_belongs(customer, context_id)
    return False


# How an amendment reaches its customer, by related names only: the amendment
# model is not imported, so this app does not depend on where it lives.
AMENDMENT_PATHS = ("amendments", "fees__amendments")


def _amendment_belongs(customer: Customer, amendment_id: int) -> bool:
    for path in AMENDMENT_PATHS:
        try:
            contracts = Contract.objects.filter(customer=customer, **{f"{path}__pk": amendment_id})
        except FieldError:
            continue  # no such relation (yet)
        return contracts.exists()
    return False


def survey_answered(user, context: str, context_id: int | None) -> bool:
    """Whether this login already answered the survey about this payment or fee
    change (a general survey may be answered any number of times)."""
    if context == SurveyContext.GENERAL:
        return False
    return SurveyAnswer.objects.filter(user=user, context=context, context_id=context_id).exists()


@dataclass(frozen=True)
class MonthlyAverage:
    month: dt.date
    context: str
    answers: int
    average: Decimal

    @property
    def context_label(self) -> str:
        return str(SurveyContext(self.context).label)


def monthly_averages(answers: QuerySet[SurveyAnswer] | None = None) -> list[MonthlyAverage]:
    """The answers' count and average score per month (Asia/Shanghai) and context,
    newest month first, in one grouped query over ``answers`` (all by default;
    the admin passes its filtered list)."""
    answers = SurveyAnswer.objects.all() if answers is None else answers
    rows = (
        answers.order_by()
        .annotate(month=TruncMonth("created_at"))
        .values("month", "context")
        .annotate(answers=Count("id"), average=Avg("score"))
        .order_by("-month", "context")
    )
    out = []
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        average = Decimal(str(row["average"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        out.append(
            MonthlyAverage(
                month=month, context=row["context"], answers=row["answers"], average=average
            )
        )
    return out
