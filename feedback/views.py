"""The feedback pages of the portal: give feedback, answer a survey.

A survey about a payment or a fee change is opened by a link other pages show,
``{% url 'portal:feedback:survey' %}?context=payment&id=<attempt id>``
(``feedback_tags.survey_url`` builds it). The id must name the logged-in
customer's own payment attempt or fee change: anything else is 404, exactly like
an id that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from feemgmt.core.admin_forms import add_business_error
from feemgmt.core.exceptions import BusinessError
from portal.access import customer_required

from .choices import SurveyContext
from .forms import FeedbackForm, SurveyForm
from .selectors import survey_answered, survey_context_belongs
from .services import feedback_submit, survey_answer_submit


@customer_required
def index(request):
    return render(request, "feedback/portal/index.html", {"form": FeedbackForm()})


@customer_required
def give(request):
    """POST: the feedback form; GET shows it."""
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            feedback_submit(
                customer=request.customer,
                user=request.user,
                category=form.cleaned_data["category"],
                text=form.cleaned_data["text"],
            )
        except BusinessError as error:
            add_business_error(form, error)
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect("portal:feedback:index")
    status = 400 if form.is_bound else 200
    return render(request, "feedback/portal/give.html", {"form": form}, status=status)


def _survey_subject(request) -> tuple[str, int | None]:
    """The survey's context and id from the query string; 404 for anything that is
    not the customer's."""
    context = request.GET.get("context") or SurveyContext.GENERAL
    if context not in SurveyContext.values:
        raise Http404
    context_id = None
    if context != SurveyContext.GENERAL:
        raw = request.GET.get("id", "")
        if not raw.isdigit() or len(raw) > 18:
            raise Http404
        context_id = int(raw)
    if not survey_context_belongs(request.customer, context, context_id):
        raise Http404
    return context, context_id


@customer_required
def survey(request):
    context, context_id = _survey_subject(request)
    answered = survey_answered(request.user, context, context_id)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and not answered and form.is_valid():
        try:
            survey_answer_submit(
                customer=request.customer,
                user=request.user,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                context=context,
                context_id=context_id,
            )
        except BusinessError as error:
            add_business_error(form, error)
        else:
            messages.success(request, _("Thank you for answering the survey."))
            return redirect("portal:feedback:index")
    status = 400 if form.is_bound and not answered else 200
    return render(
        request,
        "feedback/portal/survey.html",
        {
            "form": form,
            "answered": answered,
            "context": context,
            "context_label": SurveyContext(context).label,
            "query": request.GET.urlencode(),
        },
        status=status,
    )
