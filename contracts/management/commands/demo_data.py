"""``manage.py demo_data``: demo staff logins and a believable book of contracts.

Every contract is written through the services (create, sign, terminate), so demo
data obeys the same rules as real data. Contracts are signed without billing at
once, as a book of existing contracts is loaded, so every charge is created by the
billing run that follows. The data set is a pure function of ``--seed`` and ``--today``, and of
the contract's index: contract ``DEMO-000042`` is the same whether 50 or 10,000 are
asked for, so re-running (or asking for more) only adds what is missing.

The charges come from the billing run (the ``bill`` command, called by name: the
contracts app sits below billing and does not import it).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token
from stdnum.cn import uscc

from contracts.choices import Alignment, Cycle, FeeKind, Proration, SigningTreatment
from contracts.models import Contract, Customer
from contracts.services import (
    FeeInput,
    contract_create,
    contract_sign,
    contract_terminate,
    customer_create,
)

BATCH_SIZE = 500

CLERK_GROUP = "财务人员"
MANAGER_GROUP = "财务经理"
_CLERK_PERMISSIONS = {
    "contracts.customer": ("view", "add", "change"),
    "contracts.contract": ("view", "add", "change"),
    "contracts.fee": ("view", "add", "change"),
    # "add charge" is what lets a clerk start a billing run; charges are never edited.
    "billing.charge": ("view", "add"),
    "payments.paymentattempt": ("view",),
    "payments.refund": ("view", "add"),
    "payments.writeoffrequest": ("view", "add"),
    "payments.depositrelease": ("view", "add"),
    "payments.mandate": ("view", "add", "change"),
    "payments.directdebitbatch": ("view",),
    "alerts.alert": ("view", "change"),
    "reconciliation.bankaccount": ("view",),
    "reconciliation.statement": ("view", "add"),
    "reconciliation.statementline": ("view",),
    "reconciliation.match": ("view", "change"),
    "reconciliation.discrepancy": ("view", "change"),
    "reconciliation.reconciliationrun": ("view", "add"),
}
_MANAGER_EXTRA = {
    "contracts.customer": ("delete",),
    "contracts.contract": ("delete",),
    "contracts.fee": ("delete",),
    "payments.writeoffrequest": ("approve",),
    "payments.depositrelease": ("approve",),
    "reconciliation.bankaccount": ("add", "change"),
    "reconciliation.reconciliationrun": ("sign_off", "reopen"),
}
# (username, superuser?, group). Demo only: the password is the username.
DEMO_USERS = (
    ("admin", True, None),
    ("clerk", False, CLERK_GROUP),
    ("manager", False, MANAGER_GROUP),
)

# Registration region (行政区划代码) of each city, for the credit codes.
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


class Command(BaseCommand):
    help = _(
        "Create demo staff logins and demo customers and contracts (through the services), "
        "then run billing. Deterministic for a seed; running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--contracts", type=int, default=60, help=_("Number of contracts (default 60).")
        )
        parser.add_argument("--seed", type=int, default=1, help=_("Random seed (default 1)."))
        parser.add_argument(
            "--today",
            help=_("Date the data is built around, YYYY-MM-DD (default: today)."),
        )
        parser.add_argument(
            "--no-bill",
            action="store_true",
            help=_("Do not run billing afterwards (the contracts then have no charges)."),
        )

    def handle(self, *args, contracts, seed, today, no_bill, verbosity=1, **options):
        real_today = timezone.localdate()
        try:
            day = dt.date.fromisoformat(today) if today else real_today
        except ValueError as exc:
            raise CommandError(
                _("--today must be a date like 2026-01-31, not “%s”.") % today
            ) from exc
        if day > real_today:
            raise CommandError(
                _("--today cannot be after today (%s): contracts cannot be signed in the future.")
                % real_today.isoformat()
            )
        if contracts < 0:
            raise CommandError(_("--contracts must not be negative."))

        logins = self._ensure_users()
        created = self._create_contracts(contracts, seed, day, show_progress=verbosity >= 1)

        out = self.stdout
        out.write(_("Demo data (seed %(seed)d, today %(today)s)") % {"seed": seed, "today": day})
        out.write(
            _("  customers created: %(new)d, already there: %(old)d")
            % {"new": created["customers"], "old": created["customers_existing"]}
        )
        out.write(
            _("  contracts created: %(new)d, already there: %(old)d")
            % {"new": created["contracts"], "old": created["contracts_existing"]}
        )
        out.write(
            _("  time: %(seconds).2fs (%(rate).1f contracts/s)")
            % {
                "seconds": created["seconds"],
                "rate": created["contracts"] / created["seconds"] if created["seconds"] else 0,
            }
        )
        out.write(_("Demo logins (demo only: change these passwords before any real use):"))
        for line in logins:
            out.write("  " + line)
        if not no_bill:
            call_command("bill", "--date", day.isoformat(), stdout=self.stdout, verbosity=verbosity)
            # Collection and reconciliation live above contracts: called by name, like
            # the billing run.
            for command in ("demo_collection", "demo_reconciliation"):
                call_command(
                    command, "--date", day.isoformat(), stdout=self.stdout, verbosity=verbosity
                )

    @transaction.atomic
    def _ensure_users(self) -> list[str]:
        permissions = {
            CLERK_GROUP: _CLERK_PERMISSIONS,
            MANAGER_GROUP: {
                model: _CLERK_PERMISSIONS.get(model, ()) + _MANAGER_EXTRA.get(model, ())
                for model in _CLERK_PERMISSIONS.keys() | _MANAGER_EXTRA.keys()
            },
        }
        groups = {}
        for name, grants in permissions.items():
            group, _created = Group.objects.get_or_create(name=name)
            group.permissions.set(_permissions(grants))
            groups[name] = group

        User = get_user_model()
        lines = []
        for username, superuser, group_name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            new = user is None
            if new:
                # An existing user is left as it is: never re-enable or promote an account.
                user = User(
                    username=username,
                    email=f"{username}@example.com",
                    is_staff=True,
                    is_superuser=superuser,
                )
                user.set_password(username)
                user.save()
            if group_name:
                user.groups.add(groups[group_name])
            role = _("superuser") if superuser else group_name
            password = username if new else _("(existing user, password unchanged)")
            lines.append(f"{username} / {password}  [{role}]")
        token, _created = Token.objects.get_or_create(user=User.objects.get(username="admin"))
        lines.append(_("API token for admin: %s") % token.key)
        return lines

    def _create_contracts(
        self, count: int, seed: int, today: dt.date, *, show_progress: bool
    ) -> dict:
        started = time.monotonic()
        plan = list(demo_plan(count=count, seed=seed, today=today))
        stats = dict.fromkeys(
            ("customers", "customers_existing", "contracts", "contracts_existing"), 0
        )
        customers: dict[str, Customer] = {}
        for first in range(0, len(plan), BATCH_SIZE):
            batch = plan[first : first + BATCH_SIZE]
            with transaction.atomic():
                existing = set(
                    Contract.objects.filter(number__in=[s.number for s in batch]).values_list(
                        "number", flat=True
                    )
                )
                missing_codes = {s.customer.code for s in batch} - customers.keys()
                found = Customer.objects.in_bulk(missing_codes, field_name="code")
                stats["customers_existing"] += len(found)
                customers.update(found)
                for spec in batch:
                    if spec.number in existing:
                        stats["contracts_existing"] += 1
                        continue
                    customer = customers.get(spec.customer.code)
                    if customer is None:
                        c = spec.customer
                        customer = customer_create(
                            code=c.code,
                            name=c.name,
                            email=c.email,
                            currency=c.currency,
                            credit_code=c.credit_code,
                        )
                        customers[c.code] = customer
                        stats["customers"] += 1
                    self._create_contract(spec, customer)
                    stats["contracts"] += 1
            if show_progress:
                done = first + len(batch)
                self.stderr.write(
                    "\r"
                    + _("  demo contracts: %(done)d / %(total)d")
                    % {"done": done, "total": len(plan)},
                    ending="",
                )
                self.stderr.flush()
        if show_progress and plan:
            self.stderr.write("")
        stats["seconds"] = time.monotonic() - started
        return stats

    @staticmethod
    def _create_contract(spec: ContractSpec, customer: Customer) -> None:
        contract = contract_create(
            customer=customer,
            number=spec.number,
            currency=spec.customer.currency,
            service_start=spec.service_start,
            service_end=spec.service_end,
            alignment=spec.alignment,
            proration=spec.proration,
            payment_method=spec.payment_method,
            fees=spec.fees,
        )
        if spec.signed_on is not None:
            # the billing run below creates the charges, as the nightly run would
            contract = contract_sign(contract=contract, signed_on=spec.signed_on, bill_now=False)
        if spec.terminate_on is not None:
            contract_terminate(contract=contract, end_date=spec.terminate_on)


def _permissions(grants: dict[str, tuple[str, ...]]) -> list[Permission]:
    wanted = set()
    for label, actions in grants.items():
        app_label, model = label.split(".")
        wanted |= {(app_label, f"{action}_{model}") for action in actions}
    found = list(
        Permission.objects.filter(
            content_type__app_label__in={app for app, _codename in wanted},
            codename__in={codename for _app, codename in wanted},
        ).select_related("content_type")
    )
    found = [p for p in found if (p.content_type.app_label, p.codename) in wanted]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise CommandError(
            _("Permissions missing (run migrate first): %s")
            % ", ".join(sorted(f"{a}.{c}" for a, c in missing))
        )
    return found
