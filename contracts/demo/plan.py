"""The demo's book of contracts: a pure function of the seed, the day it is built
around and each contract's index, so contract ``DEMO-000042`` is the same whether 50
or 10,000 are asked for."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from stdnum.cn import uscc

from contracts.choices import Alignment, Cycle, FeeKind, Proration, SigningTreatment
from contracts.services import FeeInput

_CITIES = (
    ("上海", "310115"),
    ("上海", "310104"),
    ("北京", "110105"),
    ("北京", "110108"),
    ("深圳", "440305"),
    ("广州", "440106"),
    ("杭州", "330106"),
    ("苏州", "320505"),
    ("南京", "320106"),
    ("成都", "510107"),
    ("武汉", "420106"),
    ("西安", "610113"),
    ("天津", "120116"),
    ("重庆", "500112"),
)
_TRADE_NAMES = (
    "华信", "中科", "远航", "博达", "恒通", "瑞丰", "安泰", "鼎盛", "海纳", "启明",
    "金桥", "天成", "云帆", "聚力", "智联", "东方", "新元", "汇通", "宏图", "嘉禾",
    "锦程", "卓越", "星河", "同创", "润泽", "蓝海", "正元", "开元", "明德", "万象",
)  # fmt: skip
_INDUSTRIES = (
    "科技", "信息技术", "网络科技", "贸易", "商务咨询", "物流", "电子", "医疗器械",
    "文化传媒", "供应链管理", "环保科技", "生物科技", "餐饮管理", "教育科技", "建筑工程",
)  # fmt: skip
# Monthly fee range in whole units of each currency, and the step "round" prices use.
_MONTHLY_RANGE = {"CNY": (800, 20000, 100), "USD": (120, 3000, 10), "HKD": (900, 22000, 100)}
_PAYMENT_WEIGHTS = {
    "bank_transfer": 35,
    "alipay": 20,
    "wechat_pay": 20,
    "auto_debit": 20,
    "sandbox": 5,
}
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    code: str
    name: str
    email: str
    currency: str
    credit_code: str


@dataclass(frozen=True, slots=True)
class ContractSpec:
    number: str
    customer: CustomerSpec
    service_start: dt.date
    service_end: dt.date | None
    alignment: str
    proration: str
    payment_method: str
    fees: tuple[FeeInput, ...]
    signed_on: dt.date | None
    terminate_on: dt.date | None


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _org_code(number: int) -> str:
    """A 9-character organisation code (GB 11714, with its check character) that is
    unique for each ``number``: 'MA' and ``number`` scrambled into six characters."""
    alphabet = uscc._alphabet
    value = (number * 7919) % len(alphabet) ** 6
    body = ""
    for _position in range(6):
        value, digit = divmod(value, len(alphabet))
        body = alphabet[digit] + body
    body = "MA" + body
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(char, 36) * weight for char, weight in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _credit_code(region: str, number: int) -> str:
    code = "91" + region + _org_code(number)  # 9: market regulator, 1: enterprise
    return code + uscc.calc_check_digit(code)


def _customer(rng: random.Random, index: int) -> CustomerSpec:
    draw = rng.random()
    currency = "CNY" if draw < 0.75 else "USD" if draw < 0.85 else "EUR" if draw < 0.9 else "HKD"
    if currency not in settings.CURRENCIES:
        currency = settings.DEFAULT_CURRENCY
    city, region = rng.choice(_CITIES)
    trade, industry = rng.choice(_TRADE_NAMES), rng.choice(_INDUSTRIES)
    if currency == "HKD":
        # A Hong Kong company has no mainland credit code.
        name, credit_code = f"{trade}{industry}(香港)有限公司", ""
    else:
        suffix = "股份有限公司" if rng.random() < 0.2 else "有限公司"
        name, credit_code = f"{city}{trade}{industry}{suffix}", _credit_code(region, index)
    return CustomerSpec(
        code=f"DEMO-C{index:06d}",
        name=name,
        email=f"finance.c{index:06d}@example.com",
        currency=currency,
        credit_code=credit_code,
    )


def _monthly_amount(rng: random.Random, currency: str) -> Decimal:
    low, high, step = _MONTHLY_RANGE.get(currency, _MONTHLY_RANGE["CNY"])
    if rng.random() < 0.7:
        return Decimal(rng.randrange(low, high + 1, step))
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def _recurring(rng: random.Random, currency: str, cycle: str) -> FeeInput:
    monthly = _monthly_amount(rng, currency)
    amount = {
        Cycle.MONTHLY: monthly,
        Cycle.QUARTERLY: monthly * 3,
        Cycle.ANNUAL: _round(monthly * 12 * Decimal("0.9")),  # a discount for paying yearly
    }[cycle]
    return FeeInput(kind=FeeKind.RECURRING, cycle=cycle, amount=str(amount))


def _service_start(rng: random.Random, today: dt.date, months: tuple[int, int]) -> dt.date:
    first = _add_months(today.replace(day=1), rng.randint(*months))
    draw = rng.random()
    if draw < 0.4:
        return first
    if draw < 0.8:
        return first.replace(day=rng.randint(2, 28))
    # Month ends (31st, 30th, Feb 28/29) are where calendars go wrong.
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _contract(
    rng: random.Random, index: int, customer: CustomerSpec, today: dt.date
) -> ContractSpec:
    currency = customer.currency
    # The index decides the role, so even a small data set has every status.
    draft = index % 20 == 7
    terminated = index % 15 == 11
    ended = index % 10 == 3
    future = index % 10 == 5
    if terminated:
        start = _service_start(rng, today, (-18, -3))
    elif ended:
        start = _service_start(rng, today, (-18, -8))
    elif future:
        start = _service_start(rng, today, (1, 2))
    else:
        start = _service_start(rng, today, (-18, 2))
    end = None
    if ended:
        end = _add_months(start, 6) - dt.timedelta(days=1)
    elif not terminated and rng.random() < 0.25:
        end = _add_months(start, rng.choice((6, 12, 24, 36))) - dt.timedelta(days=1)

    draw = rng.random()
    cycle = Cycle.MONTHLY if draw < 0.6 else Cycle.QUARTERLY if draw < 0.85 else Cycle.ANNUAL
    fees = [_recurring(rng, currency, cycle)]
    if rng.random() < 0.1:
        # A second recurring item, e.g. a yearly platform fee next to the monthly one.
        other = rng.choice([c for c in Cycle.values if c != cycle])
        fees.append(_recurring(rng, currency, other))
    monthly = _monthly_amount(rng, currency)
    if index % 2 == 0:
        treatment = SigningTreatment.values[(index // 2) % 3]
        amount = {
            SigningTreatment.FEE: _round(monthly / 2),
            SigningTreatment.PREPAYMENT: monthly * rng.choice((1, 2, 3)),
            SigningTreatment.DEPOSIT: monthly * rng.choice((1, 2)),
        }[treatment]
        fees.append(FeeInput(kind=FeeKind.SIGNING, treatment=treatment, amount=str(amount)))
    if rng.random() < 0.35:
        fees.append(
            FeeInput(kind=FeeKind.SERVICE_START, amount=str(_round(monthly * Decimal("0.6"))))
        )

    alignment = Alignment.CALENDAR if rng.random() < 0.7 else Alignment.ANNIVERSARY
    proration = Proration.DAILY if rng.random() < 0.75 else Proration.NONE
    methods = list(settings.PAYMENT_METHODS)
    payment_method = rng.choices(methods, [_PAYMENT_WEIGHTS.get(m, 10) for m in methods])[0]
    if (payment_method == "auto_debit") != (currency == "EUR"):
        # Direct debits are SEPA (euros), and the euro customers pay that way.
        payment_method = "auto_debit" if currency == "EUR" else "bank_transfer"

    signed_on = terminate_on = None
    if not draft:
        if start <= today:
            signed_on = start - dt.timedelta(days=rng.randint(0, 30))
        else:
            signed_on = today - dt.timedelta(days=rng.randint(0, 20))
    if terminated and signed_on is not None:
        low = max(signed_on, start + dt.timedelta(days=20))
        high = today - dt.timedelta(days=1)
        if low <= high:
            terminate_on = low + dt.timedelta(days=rng.randint(0, (high - low).days))

    return ContractSpec(
        number=f"DEMO-{index:06d}",
        customer=customer,
        service_start=start,
        service_end=end,
        alignment=alignment,
        proration=proration,
        payment_method=payment_method,
        fees=tuple(fees),
        signed_on=signed_on,
        terminate_on=terminate_on,
    )


def demo_plan(*, count: int, seed: int, today: dt.date) -> Iterator[ContractSpec]:
    """The first ``count`` demo contracts, about three per customer.

    Each customer and contract draws from its own generator seeded by its index, so
    the first n contracts do not depend on how many are asked for.
    """
    index = customer_index = 0
    while index < count:
        customer_index += 1
        customer_rng = random.Random(f"{seed}:customer:{customer_index}")
        customer = _customer(customer_rng, customer_index)
        for _n in range(customer_rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6))):
            if index >= count:
                return
            index += 1
            yield _contract(random.Random(f"{seed}:contract:{index}"), index, customer, today)
