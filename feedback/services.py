"""Writing what customers tell us. Each service checks its input as the portal
form does (a caller other than the form gets the same answers) and writes one
row in one transaction."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from contracts.models import Customer
from feemgmt.core.exceptions import BusinessError

from .choices import FeedbackCategory, Score, SurveyContext
from .models import COMMENT_MAX, TEXT_MAX, Feedback, SurveyAnswer
from .selectors import survey_context_belongs

__all__ = ["feedback_submit", "survey_answer_submit"]


def _text(value: str, *, field: str, limit: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise BusinessError({field: [_("Tell us something first.")]})
    if len(value) > limit:
        raise BusinessError(
            {field: [_("At most %(count)d characters, please.") % {"count": limit}]}
        )
    return value


def feedback_submit(*, customer: Customer, user, category: str, text: str) -> Feedback:
    """Free feedback from a customer's login."""
    if category not in FeedbackCategory.values:
        raise BusinessError({"category": [_("Choose what your feedback is about.")]})
    text = _text(text, field="text", limit=TEXT_MAX, required=True)
    with transaction.atomic():
        return Feedback.objects.create(customer=customer, user=user, category=category, text=text)


def survey_answer_submit(
    *,
    customer: Customer,
    user,
    score: int,
    comment: str = "",
    context: str = SurveyContext.GENERAL,
    context_id: int | None = None,
) -> SurveyAnswer:
    """A satisfaction score (1–5) with an optional comment, about a payment attempt
    or a fee change of the customer's, or in general. The payment or fee change
    must be the customer's: anything else is refused as not found, and a second
    answer by the same login about the same one is refused."""
    if score not in Score.values:
        raise BusinessError({"score": [_("Choose a score from 1 to 5.")]})
    if context not in SurveyContext.values:
        raise BusinessError({"context": [_("Unknown survey.")]})
    if context == SurveyContext.GENERAL:
        context_id = None
    if not survey_context_belongs(customer, context, context_id):
        raise BusinessError({"context": [_("This survey was not found.")]}, code="not_found")
    comment = _text(comment, field="comment", limit=COMMENT_MAX, required=False)
    try:
        with transaction.atomic():
            return SurveyAnswer.objects.create(
                customer=customer,
                user=user,
                score=score,
                comment=comment,
                context=context,
                context_id=context_id,
            )
    except IntegrityError as error:
        raise BusinessError(
            {"context": [_("You have already answered this survey. Thank you!")]},
            code="already_answered",
        ) from error
