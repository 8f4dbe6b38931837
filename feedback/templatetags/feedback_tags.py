"""The survey invitation other portal pages show after a payment or a fee change:
``{% load feedback_tags %}<a href="{% survey_url 'payment' attempt.pk %}">…</a>``."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def survey_url(context: str = "general", object_id=None) -> str:
    url = reverse("portal:feedback:survey")
    if context == "general" or object_id is None:
        return url
    return f"{url}?{urlencode({'context': context, 'id': object_id})}"
