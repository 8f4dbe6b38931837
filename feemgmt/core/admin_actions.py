"""Admin actions that ask for something first (a reason, a date, a person) on an
intermediate page, then apply a service to the selected objects."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

ACTION_FORM_TEMPLATE = "admin/action_form.html"


def form_action(
    model_admin,
    request,
    queryset,
    *,
    action_name: str,
    title,
    form: Callable[..., forms.Form],
    apply: Callable[[forms.Form], None],
):
    """Show ``form()`` for the selected objects; once it is posted back valid, call
    ``apply(form)`` and return None (back to the list)."""
    if "apply" in request.POST:
        bound = form(request.POST)
        if bound.is_valid():
            apply(bound)
            return None
    else:
        bound = form()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "form": bound,
        "queryset": queryset,
        "action": action_name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media + bound.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, ACTION_FORM_TEMPLATE, context)
