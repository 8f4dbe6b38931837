"""What customers said, for staff: feedback and survey answers listed with
filters, and above the answers the average score per month and context of the
answers the filters select (one grouped query)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter

from .models import Feedback, SurveyAnswer
from .selectors import monthly_averages


class _CustomersWords:
    """Written by customers in the portal: staff read them, never edit them."""

    list_select_related = ("customer", "user")
    list_filter_submit = True
    search_fields = ("customer__code", "customer__name")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Feedback)
class FeedbackAdmin(_CustomersWords, ModelAdmin):
    list_display = ("created_at", "customer", "user", "category", "excerpt")
    list_filter = ("category", ("created_at", RangeDateFilter))
    search_fields = ("customer__code", "customer__name", "text")

    @admin.display(description=_("feedback"))
    def excerpt(self, obj: Feedback) -> str:
        return Truncator(obj.text).chars(80)


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(_CustomersWords, ModelAdmin):
    list_display = ("created_at", "customer", "user", "score", "context", "context_id", "excerpt")
    list_filter = ("score", "context", ("created_at", RangeDateFilter))
    list_before_template = "feedback/admin/averages.html"

    @admin.display(description=_("comment"))
    def excerpt(self, obj: SurveyAnswer) -> str:
        return Truncator(obj.comment).chars(80)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            context["averages"] = monthly_averages(context["cl"].queryset)
        return response
