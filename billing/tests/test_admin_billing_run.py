"""Billing in the admin: the read-only charge list, the "Run billing for a date"
page, and the beat schedule of the daily run (with the theme)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from unfold.forms import UserChangeForm

from billing.models import Charge
from contracts.services import FeeInput
from contracts.tests.factories import CustomerFactory, make_contract, monthly

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNED = dt.date(2026, 1, 10)
TODAY = dt.date(2026, 3, 15)
RUN_URL = "/admin/billing/charge/run/"


def on_day(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(12), SHANGHAI), tick=False)


def signed_contracts(count: int, **kwargs):
    """``count`` monthly contracts from Jan 1, signed Jan 10: signing bills January."""
    with on_day(SIGNED):
        return [
            make_contract(
                customer=CustomerFactory(**kwargs.pop("customer", {})),
                service_start=dt.date(2026, 1, 1),
                signed_on=SIGNED,
                **kwargs,
            )
            for _ in range(count)
        ]


def uses_theme(response) -> bool:
    return "unfold/layouts/skeleton.html" in {t.name for t in response.templates}


@pytest.fixture
def staff_client(client, django_user_model):
    def make(*permissions: str):
        user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
        for codename in permissions:
            app_label, codename = codename.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        client.force_login(user)
        return client

    return make


# --- The "Run billing for a date" page ----------------------------------------------


def test_the_run_page_is_the_admin_url_named_billing_run():
    assert reverse("admin:billing_run") == RUN_URL


def test_get_shows_the_form_with_today(admin_client):
    with on_day(TODAY):
        response = admin_client.get(RUN_URL)

    assert response.status_code == 200
    assert uses_theme(response)
    assert response.context["form"]["on"].value() == TODAY
    assert response.context["result"] is None
    assert "Run billing for a date" in response.text


def test_post_creates_the_due_charges_and_shows_the_summary(admin_client):
    signed_contracts(2)
    signed_contracts(1, customer={"currency": "USD"}, fees=[monthly("100.00")])
    assert Charge.objects.count() == 3  # January, billed at signing

    with on_day(TODAY):
        response = admin_client.post(RUN_URL, {"on": "2026-03-15"})

    assert response.status_code == 200
    created = sorted(
        Charge.objects.filter(period_start__gte=dt.date(2026, 2, 1)).values_list(
            "period_start", "amount", "amount_currency"
        )
    )
    assert created == sorted(
        [(dt.date(2026, m, 1), Decimal("3000.00"), "CNY") for m in (2, 3) for _ in range(2)]
        + [(dt.date(2026, m, 1), Decimal("100.00"), "USD") for m in (2, 3)]
    )
    result = response.context["result"]
    assert (result.charges_created, result.contracts_seen, result.fees_seen) == (6, 3, 3)
    summary = response.text.split('id="billing-run-summary"')[1]
    assert 'data-testid="charges-created">6<' in summary
    assert "12000.00 CNY" in summary
    assert "200.00 USD" in summary
    for label in ("Contracts seen", "Fees due", "Charges created", "Time"):
        assert label in summary
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(
        "Billing run for 2026-03-15: 6 charges created (12000.00 CNY, 200.00 USD); "
        "fees due: 3, contracts: 3; time: "
    )


def test_running_again_for_the_same_date_creates_nothing(admin_client):
    signed_contracts(1)
    with on_day(TODAY):
        admin_client.post(RUN_URL, {"on": "2026-03-15"})
        response = admin_client.post(RUN_URL, {"on": "2026-03-15"})

    assert response.context["result"].charges_created == 0
    assert Charge.objects.count() == 3


def test_a_future_date_is_refused(admin_client):
    signed_contracts(1)
    with on_day(TODAY):
        response = admin_client.post(RUN_URL, {"on": "2026-03-16"})

    assert response.status_code == 200
    assert response.context["form"].errors["on"]
    assert response.context["result"] is None
    assert Charge.objects.count() == 1


def test_staff_without_the_permission_get_403(staff_client):
    signed_contracts(1)
    client = staff_client("billing.view_charge")

    with on_day(TODAY):
        assert client.get(RUN_URL).status_code == 403
        assert client.post(RUN_URL, {"on": "2026-03-15"}).status_code == 403
        changelist = client.get(reverse("admin:billing_charge_changelist"))

    assert Charge.objects.count() == 1
    assert changelist.status_code == 200
    assert RUN_URL not in changelist.text  # no sidebar link to a page they cannot use


def test_staff_with_the_permission_to_add_charges_may_run_billing(staff_client):
    signed_contracts(1)
    client = staff_client("billing.add_charge", "billing.view_charge")

    with on_day(TODAY):
        assert client.get(RUN_URL).status_code == 200
        response = client.post(RUN_URL, {"on": "2026-03-15"})

    assert response.context["result"].charges_created == 2
    assert RUN_URL in response.text


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(RUN_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Charges -----------------------------------------------------------------------


@pytest.mark.parametrize("contracts", [5, 50])
def test_charge_changelist_has_a_constant_query_count(
    admin_client, django_assert_max_num_queries, contracts
):
    signed_contracts(contracts)
    assert Charge.objects.count() == contracts

    with django_assert_max_num_queries(9):
        response = admin_client.get(reverse("admin:billing_charge_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == contracts


def test_charge_changelist_shows_the_charge_columns(admin_client):
    (contract,) = signed_contracts(1, customer={"name": "北京乙公司"})

    response = admin_client.get(reverse("admin:billing_charge_changelist"))

    assert response.status_code == 200
    assert uses_theme(response)
    text = response.text
    for expected in (contract.number, "北京乙公司", "Recurring fee", "Pending collection"):
        assert expected in text
    (charge,) = response.context["cl"].result_list
    assert (charge.period_start, charge.period_end, charge.due_date) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 31),
        dt.date(2026, 1, 1),
    )


def test_charge_filters_search_and_date_hierarchy(admin_client):
    (cny,) = signed_contracts(1, customer={"code": "C-CNY-1", "name": "Alpha"})
    (usd,) = signed_contracts(
        1,
        customer={"code": "C-USD-1", "name": "Beta", "currency": "USD"},
        fees=[FeeInput(kind="signing", amount="50.00", treatment="fee")],
    )
    url = reverse("admin:billing_charge_changelist")

    def numbers(params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return sorted(c.contract.number for c in response.context["cl"].result_list)

    assert numbers({"currency": "USD"}) == [usd.number]
    assert numbers({"kind__exact": "signing"}) == [usd.number]
    assert numbers({"status__exact": "pending"}) == sorted([cny.number, usd.number])
    assert numbers({"status__exact": "paid"}) == []
    assert numbers({"due_date_from": "2026-01-05"}) == [usd.number]
    assert numbers({"due_date_to": "2026-01-05"}) == [cny.number]
    assert numbers({"due_date__year": "2026", "due_date__month": "1"}) == sorted(
        [cny.number, usd.number]
    )
    assert numbers({"q": cny.number}) == [cny.number]
    assert numbers({"q": "C-USD-1"}) == [usd.number]
    assert numbers({"q": "Alpha"}) == [cny.number]


def test_charges_are_read_only(admin_client):
    signed_contracts(1)
    charge = Charge.objects.get()
    change_url = reverse("admin:billing_charge_change", args=[charge.pk])

    view = admin_client.get(change_url)
    assert view.status_code == 200
    assert 'name="_save"' not in view.text
    assert admin_client.get(reverse("admin:billing_charge_add")).status_code == 403
    assert admin_client.post(change_url, {"status": "paid"}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:billing_charge_delete", args=[charge.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    charge.refresh_from_db()
    assert charge.status == "pending"


# --- The beat schedule of the daily run ----------------------------------------------


def test_the_daily_billing_run_is_listed_in_scheduled_tasks(admin_client):
    response = admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist"))

    assert response.status_code == 200
    assert uses_theme(response)
    assert "Daily billing run" in response.text


def test_the_daily_billing_run_change_page_renders(admin_client):
    task = PeriodicTask.objects.get(name="Daily billing run")

    response = admin_client.get(
        reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    )

    assert response.status_code == 200
    assert uses_theme(response)
    assert "billing.run" in response.text
    # upstream's form and template are kept (task picker, crontab translation)
    assert "regtask" in response.context["adminform"].form.fields
    assert "readable-crontabs" in response.text


def test_the_daily_run_can_be_paused_with_the_upstream_action(admin_client):
    task = PeriodicTask.objects.get(name="Daily billing run")

    admin_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "disable_tasks", "_selected_action": [str(task.pk)], "index": "0"},
    )

    task.refresh_from_db()
    assert task.enabled is False


def test_the_daily_run_can_be_moved_by_editing_its_crontab(admin_client):
    crontab = PeriodicTask.objects.get(name="Daily billing run").crontab
    url = reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert uses_theme(page)
    (inline,) = page.context["inline_admin_formsets"]
    formset = inline.formset
    data = {
        "minute": "30",
        "hour": "1",
        "day_of_month": "*",
        "month_of_year": "*",
        "day_of_week": "*",
        "timezone": "Asia/Shanghai",
        **{
            f"{formset.prefix}-{key}": value
            for key, value in formset.management_form.initial.items()
        },
    }
    for form in formset.initial_forms:
        data[f"{form.prefix}-id"] = str(form.instance.pk)

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    crontab = CrontabSchedule.objects.get(pk=crontab.pk)
    assert (crontab.minute, crontab.hour) == ("30", "1")


def test_user_admin_uses_the_theme(admin_client, admin_user):
    changelist = admin_client.get(reverse("admin:auth_user_changelist"))
    change = admin_client.get(reverse("admin:auth_user_change", args=[admin_user.pk]))

    assert changelist.status_code == change.status_code == 200
    assert uses_theme(changelist) and uses_theme(change)
    assert isinstance(change.context["adminform"].form, UserChangeForm)


def test_admin_index_links_to_the_billing_run(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert uses_theme(response)
    assert RUN_URL in response.text
