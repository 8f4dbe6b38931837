"""``manage.py demo_data``: logins that work, contracts in every status, charges from
the billing run, and a second run that adds nothing."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db.models import Count
from rest_framework.authtoken.models import Token
from stdnum.cn import uscc

from billing.models import Charge
from contracts.demo.plan import demo_plan
from contracts.models import Contract, Customer, Fee

TODAY = dt.date(2026, 11, 28)


def run_demo_data(*extra: str) -> str:
    out = StringIO()
    call_command(
        "demo_data",
        "--contracts",
        "30",
        "--seed",
        "1",
        "--today",
        TODAY.isoformat(),
        *extra,
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


@pytest.fixture
def on_today():
    """Signing compares with the real date, so the clock is set to TODAY."""
    moment = dt.datetime(2026, 11, 28, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def output(db, on_today) -> str:
    return run_demo_data()


def row_counts() -> dict[str, int]:
    models = (get_user_model(), Group, Token, Customer, Contract, Fee, Charge)
    return {model.__name__: model.objects.count() for model in models}


def test_demo_users_log_in_with_the_printed_logins(output, client):
    for username in ("admin", "clerk", "manager", "auditor"):
        assert f"{username} / {username}" in output
        assert client.login(username=username, password=username), username
        client.logout()
    assert Token.objects.get(user__username="admin").key in output


def test_clerk_and_manager_get_their_groups_permissions(output):
    users = get_user_model().objects
    admin, clerk, manager = (users.get(username=n) for n in ("admin", "clerk", "manager"))
    assert admin.is_superuser and admin.is_staff
    assert list(clerk.groups.values_list("name", flat=True)) == ["财务人员"]
    assert list(manager.groups.values_list("name", flat=True)) == ["财务经理"]
    for user in (clerk, manager):
        assert user.is_staff and not user.is_superuser
        assert user.has_perms(
            [
                "contracts.change_contract",
                "contracts.add_fee",
                "billing.view_charge",
                "billing.add_charge",
            ]
        )
        assert not user.has_perm("billing.change_charge")
    assert manager.has_perm("contracts.delete_contract")
    assert not clerk.has_perm("contracts.delete_contract")
    auditor = users.get(username="auditor")
    assert list(auditor.groups.values_list("name", flat=True)) == ["审计员"]
    assert auditor.has_perm("billing.view_charge") and not auditor.has_perm("billing.add_charge")


def test_contracts_cover_every_status_and_fee_shape(output):
    assert Contract.objects.filter(number__startswith="DEMO-").count() == 30
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert statuses == {"draft", "signed", "active", "ended", "terminated"}
    treatments = set(Fee.objects.filter(kind="signing").values_list("treatment", flat=True))
    assert treatments == {"fee", "prepayment", "deposit"}
    assert set(Fee.objects.exclude(cycle="").values_list("cycle", flat=True)) == {
        "monthly",
        "quarterly",
        "annual",
    }
    assert Fee.objects.filter(kind="service_start").exists()
    assert set(Contract.objects.values_list("alignment", flat=True)) == {"calendar", "anniversary"}
    assert len(set(Contract.objects.values_list("currency", flat=True))) > 1
    codes = [c for c in Customer.objects.values_list("credit_code", flat=True) if c]
    assert codes and all(uscc.is_valid(code) for code in codes)
    assert 5 <= Customer.objects.count() <= 20


def test_charges_come_from_billing_once_per_fee_and_period(output):
    assert "Billing run for 2026-11-28" in output
    assert Charge.objects.filter(kind="recurring").exists()
    # every charge was created by that run, none by signing
    assert f"charges created: {Charge.objects.count()}\n" in output
    twice = Charge.objects.values("fee_id", "period_start").annotate(n=Count("id")).filter(n__gt=1)
    assert not twice.exists()
    assert not Charge.objects.filter(contract__status="draft").exists()
    assert not Charge.objects.filter(due_date__gt=TODAY).exists()


def test_running_again_creates_nothing(output):
    before = row_counts()
    again = run_demo_data()
    assert row_counts() == before
    assert "contracts created: 0, already there: 30" in again
    assert "admin / (existing user, password unchanged)" in again


def test_no_bill_leaves_the_billing_run_out(db, on_today):
    output = run_demo_data("--no-bill")
    assert "Billing run" not in output
    assert Contract.objects.count() == 30
    assert not Charge.objects.exists()


def test_the_plan_depends_only_on_seed_today_and_index():
    plan = list(demo_plan(count=30, seed=1, today=TODAY))
    assert plan == list(demo_plan(count=30, seed=1, today=TODAY))
    assert list(demo_plan(count=10, seed=1, today=TODAY)) == plan[:10]
    assert list(demo_plan(count=30, seed=2, today=TODAY)) != plan
    assert [spec.number for spec in plan[:2]] == ["DEMO-000001", "DEMO-000002"]


def test_today_after_the_real_date_is_refused(db, on_today):
    with pytest.raises(CommandError, match="cannot be after today"):
        call_command("demo_data", "--today", "2026-11-29", stdout=StringIO())
