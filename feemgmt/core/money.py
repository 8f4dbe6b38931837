"""The one place where money is quantized and rounded.

Every amount that is stored, shown or summed passes through :func:`quantize`, so a
currency's minor unit (fen for CNY, none for JPY) is applied in a single way:
ROUND_HALF_UP, the rounding finance staff expect on an invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision
from moneyed import Money

__all__ = [
    "Money",
    "minor_digits",
    "money",
    "money_from_db",
    "money_label",
    "money_str",
    "quantize",
    "split_largest_remainder",
]


@lru_cache(maxsize=64)
def minor_digits(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (ISO 4217)."""
    return get_currency_precision(str(currency))


@lru_cache(maxsize=64)
def minor_unit(currency: str) -> Decimal:
    """The currency's minor unit as a Decimal exponent (0.01 for CNY, 1 for JPY)."""
    return Decimal(1).scaleb(-minor_digits(currency))


def quantize(value: Money | Decimal | int | str, currency: str | None = None) -> Money:
    """Round an amount half-up to the minor unit of its currency."""
    if isinstance(value, Money):
        currency = currency or value.currency.code
        amount = value.amount
    else:
        if currency is None:
            raise ValueError("a currency is required to quantize a bare amount")
        amount = Decimal(value)
    currency = str(currency)
    return Money(amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP), currency)


def money(amount: Decimal | int | str, currency: str) -> Money:
    """Build a quantized Money from an exact amount (never a float)."""
    if isinstance(amount, float):
        raise TypeError("money amounts must not be floats")
    return quantize(Decimal(amount), currency)


def money_from_db(value, currency: str) -> Money:
    """Money from a decimal the database returned (an aggregate, or a raw query).

    SQLite keeps decimals as REAL, so ``Sum`` may come back as a float such as
    9961336324.99003; below 15 significant digits the float's shortest repr is
    still the exact value, which is then quantized. PostgreSQL returns an exact
    Decimal. Every money value read outside the ORM's field conversion goes
    through here.
    """
    if value is None:
        value = Decimal(0)
    elif isinstance(value, float):
        value = Decimal(repr(value))
    return quantize(Decimal(value), currency)


def money_str(value: Money) -> str:
    """The amount as integrators see it: a string with the currency's minor digits."""
    return str(quantize(value).amount)


def money_label(value: Money) -> str:
    """The amount with its currency code, for messages staff read ("2801.20 HKD"):
    where two currencies may meet, the bare number would hide which is which."""
    return f"{money_str(value)} {value.currency.code}"


def split_largest_remainder(total: Money, weights: Sequence[Decimal | int]) -> list[Money]:
    """Split ``total`` in proportion to ``weights`` so the parts add up exactly.

    Each part is first rounded down to the minor unit; the units left over go, one
    each, to the parts with the largest remainders (ties to the earliest part).
    """
    if not weights:
        raise ValueError("at least one weight is needed")
    weights = [Decimal(w) for w in weights]
    if any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    total = quantize(total)
    currency = total.currency.code
    unit = minor_unit(currency)
    units_total = int(total.amount / unit)
    weight_sum = sum(weights)
    exact = [Decimal(units_total) * w / weight_sum for w in weights]
    floors = [int(e.to_integral_value(rounding="ROUND_FLOOR")) for e in exact]
    left = units_total - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Money(Decimal(f) * unit, currency) for f in floors]
