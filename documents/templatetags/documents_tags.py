"""How the documents write money: grouped by thousands, to the currency's minor
unit (``1,200.00``; ``-300.00`` for what lowers a balance)."""

from decimal import Decimal

from django import template

from feemgmt.core.money import Money, quantize

register = template.Library()


@register.filter
def amount(value: Money) -> str:
    """The bare amount, ``1,200.00``."""
    if value is None or value == "":
        return ""
    return f"{Decimal(quantize(value).amount):,}"


@register.filter
def money(value: Money) -> str:
    """The amount with its currency code, ``CNY 1,200.00``."""
    if value is None or value == "":
        return ""
    return f"{value.currency.code} {amount(value)}"
