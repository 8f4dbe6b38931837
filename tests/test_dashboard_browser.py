"""The admin home and a report page in a real browser: a finance user logs in
(zh-CN), the charts are drawn by the bundled Chart.js, the Chinese labels show, a
figure's link opens the filtered list, and no request leaves the live server.

Saves docs/screenshots/dashboard.png (1400×900) of the demo-like book. Launched
as tests/test_admin_browser.py launches Chromium (see its docstring: Debian's
/usr/bin/chromium, never ``playwright install``; skipped without it, except
under CI=true).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from reports.tests.dashboard_book import TODAY, demo_book, raise_alerts
from tests.test_admin_browser import browser_page  # noqa: F401  (the fixture)

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "dashboard.png"
SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = [pytest.mark.browser]

# A chart is drawn when Chart.js holds an instance for its canvas and has painted
# pixels on it (a canvas left blank has none that are not transparent).
CHARTS_DRAWN = """() => [...document.querySelectorAll('canvas.chart')].map((canvas) => {
    const chart = window.Chart && Chart.getChart(canvas);
    const pixels = canvas.getContext('2d')
        .getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) painted++; }
    return {chart: !!chart, datasets: chart ? chart.data.datasets.length : 0, painted};
})"""


@pytest.fixture
def finance_user(django_user_model):
    return django_user_model.objects.create_superuser(
        "finance", "finance@example.com", "s3cret-pass"
    )


def log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "finance")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def record_hosts(page) -> set[str]:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    return hosts


def assert_charts_drawn(page, expected: int):
    page.wait_for_function("() => window.Chart && document.querySelectorAll('canvas.chart').length")
    charts = page.evaluate(CHARTS_DRAWN)
    assert len(charts) == expected, charts
    for chart in charts:
        assert chart["chart"] and chart["datasets"] >= 1, chart
        assert chart["painted"] > 500, chart


def test_finance_user_reads_the_dashboard(browser_page, live_server, settings, finance_user):  # noqa: F811
    settings.LANGUAGE_CODE = "zh-hans"
    book = demo_book(user=finance_user)
    raise_alerts(book["late_cny"].customer)
    page = browser_page
    hosts = record_hosts(page)

    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(9), SHANGHAI), tick=False):
        log_in(page, live_server)
        page.wait_for_selector("#dashboard")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        text = page.locator("body").inner_text()
        # Django's and unfold's own zh-hans strings, and the demo's Chinese names
        assert "注销" in page.content()  # "Log out", in the user menu
        assert "上海示例贸易有限公司" in text  # the newest alerts name the customer
        assert "应收款逾期" in text  # "Charge overdue", an alert's kind
        assert "严重" in text  # "Critical", a severity
        assert "工商银行基本户" in text and "已签核" in text  # the account, "Signed off"
        assert "币种" in text  # "Currency", the today tile's first column
        # aging and collections, one chart per currency each
        assert_charts_drawn(page, expected=4)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        overdue = page.locator("[data-testid=today-overdue-CNY]")
        assert overdue.locator("span").first.inner_text().strip() == "2"
        overdue.click()
        page.wait_for_url("**/admin/billing/charge/**")
        rows = page.locator("#result_list tbody tr")
        rows.first.wait_for()
        assert rows.count() == 2
        listing = page.locator("#result_list").inner_text()
        assert listing.count("上海示例贸易有限公司") == 2

        page.goto(live_server.url + reverse("admin_reports:report", args=["collections"]))
        page.wait_for_selector("#report-table")
        assert_charts_drawn(page, expected=2)
        table = page.locator("#report-table").inner_text()
        assert "支付宝" in table and "微信支付" in table  # the methods by name
        assert "币种" in table

    live = urlparse(live_server.url).netloc
    assert hosts == {live}, f"requests left the live server: {hosts - {live}}"
