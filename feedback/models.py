"""What customers tell us: free feedback, and satisfaction survey answers.

Both belong to a customer and name the portal login that wrote them (kept when
the login is deleted, as nobody's). A survey answer may be about one payment
attempt or one fee change; its context id is a plain integer, not a foreign key,
so the survey depends on neither table's life and amendments can move between
apps without a migration here. The database allows one answer per login and
context object: the invitation after a payment can be answered once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contracts.models import Customer

from .choices import FeedbackCategory, Score, SurveyContext

TEXT_MAX = 4000
COMMENT_MAX = 2000


class Feedback(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("customer")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    category = models.CharField(_("category"), max_length=16, choices=FeedbackCategory.choices)
    text = models.TextField(_("feedback"), max_length=TEXT_MAX)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.customer.code} {self.get_category_display()} {self.created_at:%Y-%m-%d}"


class SurveyAnswer(models.Model):
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="survey_answers",
        verbose_name=_("customer"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    score = models.PositiveSmallIntegerField(_("score"), choices=Score.choices)
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX, blank=True)
    context = models.CharField(
        _("context"), max_length=16, choices=SurveyContext.choices, default=SurveyContext.GENERAL
    )
    context_id = models.PositiveBigIntegerField(
        _("about"),
        null=True,
        blank=True,
        help_text=_("The payment attempt or fee change the answer is about."),
    )
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"
            ),
            models.CheckConstraint(
                condition=(Q(context=SurveyContext.GENERAL) & Q(context_id__isnull=True))
                | (~Q(context=SurveyContext.GENERAL) & Q(context_id__isnull=False)),
                name="survey_context_id_iff_not_general",
            ),
            models.UniqueConstraint(
                fields=["user", "context", "context_id"],
                condition=~Q(context=SurveyContext.GENERAL),
                name="survey_one_answer_per_context",
            ),
        ]

    def __str__(self):
        return f"{self.customer.code} {self.score} {self.get_context_display()}"
