"""The admin in a real browser: a finance clerk logs in, runs billing for a date,
reads the summary, then finds the new charges in the list, in Chinese.

Needs Debian's chromium at /usr/bin/chromium and the ``playwright`` package
(never ``playwright install``: no downloads). Without them the test is skipped,
except under CI=true, where it fails so CI cannot pass without it.

Playwright's sync API keeps an asyncio loop running in the test's thread, which
makes Django refuse ORM calls there (SynchronousOnlyOperation). The browser is
therefore started per test, and DJANGO_ALLOW_ASYNC_UNSAFE is set only while it
runs; a session-wide Playwright (pytest-playwright's ``page`` fixture) would leave
that loop running for every test after this one.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from billing.models import Charge
from contracts.tests.factories import CustomerFactory, make_contract

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOT = Path("/tmp/admin-billing-run.png")
SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = [pytest.mark.browser]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"no browser at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    return None


@pytest.fixture
def browser_page(monkeypatch, live_server, transactional_db):
    """A Chromium page whose browser speaks Chinese, like the finance staff's.

    Two things keep PostgreSQL's test database droppable at the end of the run:
    the live server's request threads close their connections after each request
    (settings keep them open, CONN_MAX_AGE), and the connection Django opens for
    ORM calls made while Playwright's loop runs (a different async context of
    this thread) is closed before the loop stops.
    """
    missing = _missing()
    if missing:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"browser test cannot run under CI: {missing}")
        pytest.skip(missing)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            connections.close_all()


@pytest.fixture
def clerk(django_user_model):
    django_user_model.objects.create_superuser("finance", "finance@example.com", "s3cret-pass")
    return "finance", "s3cret-pass"


def test_clerk_runs_billing_and_finds_the_charges(browser_page, live_server, settings, clerk):
    settings.LANGUAGE_CODE = "zh-hans"  # the project default (conftest switches tests to en)
    with time_machine.travel(dt.datetime(2025, 1, 10, 12, tzinfo=SHANGHAI), tick=False):
        for number in ("HT-BROWSER-1", "HT-BROWSER-2"):
            make_contract(
                number=number,
                customer=CustomerFactory(name="浏览器测试客户"),
                service_start=dt.date(2025, 1, 1),
                signed_on=dt.date(2025, 1, 10),
            )
    assert Charge.objects.count() == 2  # January, billed when signed
    page = browser_page
    username, password = clerk

    page.goto(f"{live_server.url}/admin/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "登录" in page.locator("body").inner_text()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(live_server.url + reverse("admin:billing_run"))
    page.fill("#billing-run-form input[name=on]", "2025-03-15")
    page.click("#billing-run-form button[type=submit]")
    summary = page.locator("#billing-run-summary")
    summary.wait_for()
    # February and March for each contract
    assert page.locator("[data-testid=charges-created]").inner_text().strip() == "4"
    assert "12000.00 CNY" in summary.inner_text()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.goto(live_server.url + reverse("admin:billing_charge_changelist"))
    rows = page.locator("#result_list tbody tr")
    rows.first.wait_for()
    assert rows.count() == 6
    listing = page.locator("#result_list").inner_text()
    assert "HT-BROWSER-1" in listing and "HT-BROWSER-2" in listing
    assert "浏览器测试客户" in listing
    # Django's own zh-hans admin strings and date format (the project's catalogue
    # of its own strings comes later)
    text = page.locator("body").inner_text()
    assert "所有日期" in text  # "All dates" (date hierarchy)
    assert "2025年3月1日" in text  # zh-hans date format
    assert "注销" in page.content()  # "Log out", in the user menu
    assert Charge.objects.count() == 6
