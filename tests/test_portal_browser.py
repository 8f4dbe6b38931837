"""The portal and the fee-change workflow in a real browser (Debian's chromium,
launched as tests/test_admin_browser.py does; skipped without it, except under
CI=true).

A clerk proposes a fee change in the admin and a manager approves it; the customer,
on a phone-sized screen, consents to it, authorises direct debit, pays a charge
through the sandbox and downloads its receipt; another customer cannot open those
pages; an integrator's key scoped to one customer gets 404 for another's contract.
Saves the portal pages as docs/screenshots/portal-*.png (Chinese, 390×844).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.models import AmendmentDecision, FeeAmendment
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from payments.models import Mandate
from portal.models import CustomerUser
from tests.test_admin_browser import CHROMIUM, CHROMIUM_ARGS, _missing

pytestmark = [pytest.mark.browser]

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNED = dt.date(2026, 3, 2)
TODAY = dt.date(2026, 3, 10)
PASSWORD = "Correct-horse-7"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)


@pytest.fixture
def browser(monkeypatch, live_server, transactional_db):
    missing = _missing()
    if missing:
        import os

        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"browser test cannot run under CI: {missing}")
        pytest.skip(missing)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            connections.close_all()


def context(browser, **options):
    ctx = browser.new_context(locale="zh-CN", accept_downloads=True, **options)
    ctx.set_default_timeout(15_000)
    return ctx


def phone(browser):
    return context(browser, viewport=PHONE, is_mobile=True, has_touch=True, user_agent=PHONE_AGENT)


def staff_login(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def portal_login(page, live_server, username):
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")


@pytest.fixture
def book(django_user_model):
    """Two customers with a portal login each; the first has a monthly contract paid
    through the sandbox (its first charge due and open), the second a contract of its own."""
    for name in ("clerk", "manager"):
        django_user_model.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
    first = CustomerFactory(name="上海星辰贸易有限公司")
    second = CustomerFactory(name="北京月光科技有限公司")
    with time_machine.travel(dt.datetime.combine(SIGNED, dt.time(12), SHANGHAI), tick=False):
        contract = make_contract(
            customer=first,
            number="HT-2026-0310",
            service_start=SIGNED,
            signed_on=SIGNED,
            alignment="anniversary",
            payment_method="sandbox",
            fees=[monthly("1200.00")],
        )
        theirs = make_contract(customer=second, service_start=SIGNED, signed_on=SIGNED)
    for customer, username in ((first, "alice"), (second, "bob")):
        user = django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD)
        CustomerUser.objects.create(user=user, customer=customer)
    return {"contract": contract, "theirs": theirs, "charge": contract.charges.get()}


def test_fee_change_consent_mandate_payment_and_receipt(browser, live_server, settings, book):
    settings.LANGUAGE_CODE = "zh-hans"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    contract, charge = book["contract"], book["charge"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(10), SHANGHAI), tick=True):
        # a clerk proposes the change...
        staff = context(browser, viewport={"width": 1400, "height": 900})
        page = staff.new_page()
        staff_login(page, live_server, "clerk")
        page.goto(f"{live_server.url}/admin/billing/feeamendment/add/")
        page.fill("input[name=contract]", contract.number)
        page.click("#content-main form button[type=submit]")
        page.select_option("select[name=fee]", str(contract.fees.get().pk))
        page.fill("input[name=new_amount]", "1320.00")
        page.fill("input[name=effective_from]", "2026-05-02")
        page.fill("textarea[name=reason]", "服务范围扩大，新增月度对账服务")
        page.click("#content-main form button[type=submit]")
        page.wait_for_url("**/admin/billing/feeamendment/*/change/")
        amendment = FeeAmendment.objects.get()
        assert amendment.status == "proposed"
        staff.close()
        # ...and a manager approves it
        staff = context(browser, viewport={"width": 1400, "height": 900})
        page = staff.new_page()
        staff_login(page, live_server, "manager")
        page.goto(f"{live_server.url}/admin/billing/feeamendment/")
        page.check(f"input[name=_selected_action][value='{amendment.pk}']")
        page.select_option("select[name=action]", "approve_amendments")
        page.click("button[name=index]")
        page.wait_for_load_state()
        amendment.refresh_from_db()
        assert amendment.status == "sent"
        staff.close()

        # the customer, on a phone, consents
        customer = phone(browser)
        page = customer.new_page()
        portal_login(page, live_server, "alice")
        page.screenshot(path=str(SCREENSHOTS / "portal-overview.png"), full_page=True)
        page.goto(f"{live_server.url}/portal/amendments/{amendment.pk}/")
        assert "1320.00" in page.inner_text("[data-testid=new-amount]")
        shown = page.inner_text("[data-testid=consent-text]")
        page.screenshot(path=str(SCREENSHOTS / "portal-amendment.png"), full_page=True)
        page.check("input[name=agree]")
        page.click("button[value=consent]")
        page.wait_for_selector("[data-testid=decision]")
        decision = AmendmentDecision.objects.get()
        assert decision.consented and decision.text_shown == shown.strip()
        assert decision.user_agent == PHONE_AGENT

        # authorises direct debit with the text shown
        page.goto(f"{live_server.url}/portal/mandates/")
        page.fill("input[name=debtor_name]", "上海星辰贸易有限公司")
        page.fill("input[name=debtor_iban]", "DE89 3704 0044 0532 0130 00")
        page.check("input[name=consent]")
        page.click("form:has(input[name=consent]) button[type=submit]")
        page.wait_for_selector("[data-testid=active-mandate]")
        assert Mandate.objects.filter(customer=contract.customer, status="active").count() == 1

        # pays the open charge through the sandbox and downloads its receipt
        page.goto(f"{live_server.url}/portal/charges/{charge.pk}/")
        page.screenshot(path=str(SCREENSHOTS / "portal-charge.png"), full_page=True)
        page.click(f"form[action$='/charges/{charge.pk}/pay/'] button")
        page.wait_for_load_state()
        charge.refresh_from_db()
        assert charge.status == "paid"
        with page.expect_download() as download:
            page.click(f"a[href$='/documents/receipts/{charge.pk}/']")
        pdf = Path(download.value.path()).read_bytes()
        from pypdf import PdfReader

        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        # the Chinese renders as text (fonts-noto-cjk), the amount in figures and capitals
        assert "上海星辰贸易有限公司" in text and "壹仟贰佰元整" in text
        assert "1,200.00" in text or "1200.00" in text
        customer.close()

        # another customer cannot open those pages
        other = phone(browser)
        page = other.new_page()
        portal_login(page, live_server, "bob")
        for path in (
            f"/portal/charges/{charge.pk}/",
            f"/portal/contracts/{contract.pk}/",
            f"/portal/amendments/{amendment.pk}/",
            f"/portal/documents/receipts/{charge.pk}/",
        ):
            assert page.goto(f"{live_server.url}{path}").status == 404, path
        other.close()


def test_a_scoped_key_gets_404_for_another_customers_contract(live_server, book, django_user_model):
    from django.contrib.auth.models import Permission

    from integrations.services import api_key_create

    user = django_user_model.objects.create_user("erp")
    user.user_permissions.set(Permission.objects.filter(codename="view_contract"))
    _key, secret = api_key_create(name="erp", user=user, customer=book["contract"].customer)

    def get(path):
        request = urllib.request.Request(
            f"{live_server.url}{path}", headers={"Authorization": f"Api-Key {secret}"}
        )
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert get(f"/api/v1/contracts/{book['contract'].pk}/")[0] == 200
    status, body = get(f"/api/v1/contracts/{book['theirs'].pk}/")
    assert status == 404 and "detail" in body
