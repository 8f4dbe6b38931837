"""The portal's navigation, built in one place so every page shows the same menu.

An entry appears only once its URL exists (amendments, documents and feedback
pages are added by other apps), so the menu never breaks a page.
"""

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from feemgmt.core.money import money_str
from payments.services.mandates import masked_iban

register = template.Library()

NAV = [
    ("portal:overview", _("Overview")),
    ("portal:contracts", _("Contracts")),
    ("portal:charges", _("Charges")),
    ("portal:payments", _("Payments")),
    ("portal:mandates", _("Direct debit")),
    ("portal:amendments", _("Fee changes")),
    ("portal:documents:index", _("Documents")),
    ("portal:feedback:index", _("Feedback")),
]


def _nav_url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def portal_nav(context):
    """The menu, with the entry of the current page section marked."""
    request = context.get("request")
    path = request.path if request else ""
    overview = _nav_url("portal:overview")
    items = []
    for name, label in NAV:
        url = _nav_url(name)
        if url is None:
            continue
        current = path == url if url == overview else path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    return {"items": items}


@register.filter
def money(value) -> str:
    """``1234.50 CNY``: the amount with its currency's minor digits, and its code."""
    if value is None:
        return ""
    return f"{money_str(value)} {value.currency.code}"


@register.filter
def payment_method(name: str) -> str:
    """A payment method's name as customers read it (``settings.PAYMENT_METHODS``)."""
    return str(settings.PAYMENT_METHODS.get(name, name))


@register.filter
def masked_account(value: str) -> str:
    """An account number with only its first and last four characters shown."""
    return masked_iban(value or "")
