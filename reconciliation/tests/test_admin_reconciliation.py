"""Reconciliation in the admin: the "Import a statement" page (preview, then
import), the receiving accounts and their column-mapping preview, the read-only
statement, line and discrepancy lists, and confirming suggestions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.choices import ChargeStatus
from billing.models import Charge
from contracts.tests.factories import CustomerFactory
from payments.services.collection import Outcome, charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from reconciliation.choices import LineStatus, MatchStatus
from reconciliation.models import BankAccount, Discrepancy, Match, Statement, StatementLine
from tests.clock import at

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/reconciliation/statement/import/"
ACCOUNT_NUMBER = "6222020200001234567"
# The detail export of ICBC (工商银行), whose header the built-in mapping knows.
ICBC_HEADER = "交易日期,摘要,记账金额(收入),记账金额(支出),记账币种,对方户名,对方账户"
# The same export from a bank no built-in mapping knows.
LOCAL_BANK_HEADER = "入账日期,入账金额,付款人,备注"
LOCAL_BANK_MAPPING = {
    "name": "local-bank",
    "label": "本地农商行",
    "booked_on": ["入账日期"],
    "amount": ["入账金额"],
    "counterparty_name": ["付款人"],
    "narrative": ["备注"],
}


def csv_export(*rows: tuple[dt.date, str, str, str], header: str = ICBC_HEADER) -> bytes:
    """An ICBC CSV export: one row per (date, amount, payer, narrative)."""
    lines = [header]
    for booked_on, amount, payer, narrative in rows:
        lines.append(f"{booked_on.isoformat()},{narrative},{amount},,CNY,{payer},6222000011112222")
    return ("\n".join(lines) + "\n").encode("utf-8")


def transfer_notice(amount: str = "3000.00", *, customer_name: str | None = None) -> Charge:
    """A bank-transfer charge whose payment notice (with its reference) went out."""
    customer = CustomerFactory(**({"name": customer_name} if customer_name else {}))
    charge = billed_charge(amount, method="bank_transfer", customer=customer)
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PENDING
    charge.refresh_from_db()
    return charge


def reference_of(charge: Charge) -> str:
    return charge.attempts.get().provider_reference


@pytest.fixture(autouse=True)
def _on_day():
    """The whole test on DAY: a session saved while the clock is on DAY would have
    expired by the real date, logging the client out between two requests."""
    with at(DAY):
        yield


@pytest.fixture
def account():
    return BankAccount.objects.create(
        code="icbc-cny",
        name="工商银行基本户",
        bank="中国工商银行",
        account_number=ACCOUNT_NUMBER,
        currency="CNY",
        receives_transfers=True,
    )


@pytest.fixture
def notice():
    return transfer_notice()


@pytest.fixture
def paying_file(notice):
    """A line quoting the notice's reference, for the amount it asks."""
    return csv_export(
        (DAY, "3000.00", "张三", f"管理费 {reference_of(notice)}"),
        (DAY, "12.34", "李四", "unrelated"),
    )


def upload(data: bytes, name: str = "icbc.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def preview(client, account, data, **extra):
    return client.post(
        IMPORT_URL,
        {"account": account.pk, "format": "auto", "file": upload(data), "step": "preview", **extra},
    )


def confirm(client, account, previewed, **extra):
    """The second submit: the file kept by the preview, identified by its token."""
    form = previewed.context["form"]
    return client.post(
        IMPORT_URL,
        {
            "account": account.pk,
            "format": "auto",
            "kept": form["kept"].value(),
            "kept_digest": form["kept_digest"].value(),
            "step": "import",
            **extra,
        },
    )


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def staff(client, django_user_model, *codenames: str):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


# --- Import a statement -------------------------------------------------------------


def test_the_import_page_is_an_admin_url_with_the_form(admin_client, account):
    assert reverse("admin:reconciliation_statement_import") == IMPORT_URL
    response = admin_client.get(IMPORT_URL)
    assert response.status_code == 200
    assert "unfold/layouts/skeleton.html" in {t.name for t in response.templates}
    assert set(response.context["form"].fields) >= {"account", "file", "format"}


def test_a_first_submit_previews_the_file_and_writes_nothing(admin_client, account, paying_file):
    with at(DAY):
        response = preview(admin_client, account, paying_file)

    assert response.status_code == 200
    result = response.context["preview"]
    assert result.format == "csv" and result.mapping == "icbc"
    assert result.lines_read == 2
    assert [str(line.amount) for line in result.lines] == ["3000.00", "12.34"]
    assert result.raw_rows[0][0] == "交易日期"
    page = response.content.decode()
    assert "张三" in page and "3000.00" in page
    assert 'data-testid="parsed-lines"' in page
    assert Statement.objects.count() == 0
    assert StatementLine.objects.count() == 0


def test_the_second_submit_imports_and_shows_what_it_did(
    admin_client, admin_user, account, notice, paying_file
):
    with at(DAY):
        previewed = preview(admin_client, account, paying_file)
        response = confirm(admin_client, account, previewed)

    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.lines_read, summary.lines_new, summary.duplicates) == (2, 2, 0)
    assert (summary.settled, summary.suggested, summary.unmatched) == (1, 0, 1)
    page = response.content.decode()
    assert 'data-testid="settled">1<' in page
    assert 'data-testid="unmatched">1<' in page
    statement = Statement.objects.get()
    assert statement.imported_by == admin_user and statement.filename == "icbc.csv"
    notice.refresh_from_db()
    assert notice.status == ChargeStatus.PAID
    assert any("2 lines read" in text for text in texts(response))
    # The kept file is dropped once imported.
    assert "reconciliation.statement_import" not in admin_client.session


def test_importing_by_uploading_the_file_again_works_too(admin_client, account, paying_file):
    with at(DAY):
        response = admin_client.post(
            IMPORT_URL,
            {"account": account.pk, "format": "csv", "file": upload(paying_file), "step": "import"},
        )

    assert response.context["summary"].lines_new == 2
    assert Statement.objects.count() == 1


def test_the_same_file_again_says_already_imported(admin_client, account, paying_file):
    with at(DAY):
        confirm(admin_client, account, preview(admin_client, account, paying_file))
        previewed = preview(admin_client, account, paying_file)
        assert previewed.context["preview"].already_imported == Statement.objects.get()
        assert 'data-testid="already-imported"' in previewed.content.decode()
        response = admin_client.post(
            IMPORT_URL,
            {
                "account": account.pk,
                "format": "auto",
                "file": upload(paying_file),
                "step": "import",
            },
        )

    summary = response.context["summary"]
    assert summary.already_imported and summary.lines_new == 0 and summary.duplicates == 2
    assert "already imported" in response.content.decode()
    assert Statement.objects.count() == 1 and StatementLine.objects.count() == 2


def test_a_malformed_file_shows_the_line_and_writes_nothing(admin_client, account, notice):
    data = csv_export(
        (DAY, "3000.00", "张三", f"管理费 {reference_of(notice)}"),
        (DAY, "twelve", "李四", "typo in the amount"),
    )

    with at(DAY):
        previewed = preview(admin_client, account, data)
        imported = admin_client.post(
            IMPORT_URL,
            {"account": account.pk, "format": "auto", "file": upload(data), "step": "import"},
        )

    for response in (previewed, imported):
        assert response.status_code == 200
        errors = response.context["form"].errors["file"]
        assert any(error.startswith("line 3:") and "twelve" in error for error in errors), errors
        assert "line 3:" in response.content.decode()
    assert previewed.context["preview"] is None
    assert Statement.objects.count() == 0 and StatementLine.objects.count() == 0
    notice.refresh_from_db()
    assert notice.status == ChargeStatus.PENDING


def test_a_second_submit_without_the_kept_file_asks_for_it(admin_client, account):
    response = admin_client.post(
        IMPORT_URL,
        {
            "account": account.pk,
            "format": "auto",
            "kept": "nope",
            "kept_digest": "0" * 64,
            "step": "import",
        },
    )

    assert response.context["form"].errors["file"] == ["Choose the file."]
    assert Statement.objects.count() == 0


def test_a_clerk_without_add_statement_gets_403(client, django_user_model, account, paying_file):
    clerk = staff(client, django_user_model, "view_statement", "view_bankaccount")

    assert clerk.get(IMPORT_URL).status_code == 403
    assert (
        clerk.post(
            IMPORT_URL,
            {
                "account": account.pk,
                "format": "auto",
                "file": upload(paying_file),
                "step": "import",
            },
        ).status_code
        == 403
    )
    assert Statement.objects.count() == 0
    page = clerk.get(reverse("admin:reconciliation_statement_changelist")).content.decode()
    assert IMPORT_URL not in page


def test_a_clerk_with_add_statement_may_import(client, django_user_model, account, paying_file):
    clerk = staff(client, django_user_model, "add_statement", "view_statement")

    with at(DAY):
        response = clerk.post(
            IMPORT_URL,
            {
                "account": account.pk,
                "format": "auto",
                "file": upload(paying_file),
                "step": "import",
            },
        )

    assert response.status_code == 200 and Statement.objects.count() == 1
    page = clerk.get(reverse("admin:reconciliation_statement_changelist")).content.decode()
    assert page.count(IMPORT_URL) == 2  # the sidebar link and the list's object tool


def test_the_sidebar_lists_the_reconciliation_pages(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    for name in ("bankaccount", "statement", "statementline", "match", "discrepancy"):
        assert reverse(f"admin:reconciliation_{name}_changelist") in page
    assert IMPORT_URL in page


# --- Suggestions, confirmed through the Match admin ---------------------------------------


def test_confirming_a_suggestion_settles_the_charge(admin_client, account):
    charge = transfer_notice("4200.00", customer_name="上海明德教育科技有限公司")
    data = csv_export((charge.due_date, "4200.00", "上海明德教育科技有限公司", "四月管理费"))
    with at(DAY):
        summary = admin_client.post(
            IMPORT_URL,
            {"account": account.pk, "format": "auto", "file": upload(data), "step": "import"},
        ).context["summary"]
    assert summary.suggested == 1
    match = Match.objects.get(status=MatchStatus.SUGGESTED)
    assert match.charge == charge and match.score == 100

    listing = admin_client.get(reverse("admin:reconciliation_match_changelist"))
    assert listing.context["cl"].result_count == 1
    assert "resembles" in listing.content.decode()
    lines = admin_client.get(reverse("admin:reconciliation_statementline_changelist"))
    assert "score 100" in lines.content.decode()

    with at(DAY):
        response = admin_client.post(
            reverse("admin:reconciliation_match_changelist"),
            {"action": "confirm_matches", "_selected_action": [match.pk]},
        )

    assert response.status_code == 302
    assert "1 match confirmed." in texts(response)
    charge.refresh_from_db()
    match.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert match.status == MatchStatus.CONFIRMED and match.effect == "settled"
    assert StatementLine.objects.get().status == LineStatus.MATCHED


def test_confirming_twice_shows_the_refusal_not_an_error_page(admin_client, account):
    charge = transfer_notice("4200.00", customer_name="上海明德教育科技有限公司")
    data = csv_export((charge.due_date, "4200.00", "上海明德教育科技有限公司", "四月管理费"))
    with at(DAY):
        admin_client.post(
            IMPORT_URL,
            {"account": account.pk, "format": "auto", "file": upload(data), "step": "import"},
        )
        match = Match.objects.get()
        url = reverse("admin:reconciliation_match_changelist")
        admin_client.post(url, {"action": "confirm_matches", "_selected_action": [match.pk]})
        response = admin_client.post(
            url + "?status=all", {"action": "reject_matches", "_selected_action": [match.pk]}
        )

    assert response.status_code == 302
    assert any("Only a suggested match can be rejected." in text for text in texts(response))
    match.refresh_from_db()
    assert match.status == MatchStatus.CONFIRMED


def test_a_clerk_without_change_match_cannot_confirm(client, django_user_model, account):
    charge = transfer_notice("4200.00", customer_name="上海明德教育科技有限公司")
    data = csv_export((charge.due_date, "4200.00", "上海明德教育科技有限公司", "四月管理费"))
    with at(DAY):
        from reconciliation.services import statement_import

        statement_import(account=account, data=data, filename="icbc.csv")
    match = Match.objects.get()
    clerk = staff(client, django_user_model, "view_match")

    response = clerk.post(
        reverse("admin:reconciliation_match_changelist"),
        {"action": "confirm_matches", "_selected_action": [match.pk]},
    )

    match.refresh_from_db()
    charge.refresh_from_db()
    assert match.status == MatchStatus.SUGGESTED and charge.status == ChargeStatus.PENDING
    assert response.status_code in (200, 302)


# --- Read-only lists, and their query counts ---------------------------------------------


def import_lines(account, count: int, *, start: int = 0):
    """``count`` unexplained lines (each an unmatched-line discrepancy)."""
    from reconciliation.services import statement_import

    rows = [
        (DAY, f"{11 + start + index}.01", f"付款人 {start + index}", f"line {start + index}")
        for index in range(count)
    ]
    with at(DAY):
        statement_import(account=account, data=csv_export(*rows), filename=f"{start}.csv")


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("model", ["statementline", "discrepancy", "match", "statement"])
def test_changelists_do_not_query_per_row(admin_client, account, model):
    # Lines of every kind: settled by reference, suggested, and unexplained.
    paid = transfer_notice("3000.00")
    suggested = transfer_notice("4200.00", customer_name="上海明德教育科技有限公司")
    from reconciliation.services import statement_import

    with at(DAY):
        statement_import(
            account=account,
            data=csv_export(
                (DAY, "3000.00", "张三", f"管理费 {reference_of(paid)}"),
                (suggested.due_date, "4200.00", "上海明德教育科技有限公司", "四月管理费"),
            ),
            filename="first.csv",
        )
    import_lines(account, 3)
    url = reverse(f"admin:reconciliation_{model}_changelist") + (
        "?status=all" if model == "match" else ""
    )
    few = queries_for(admin_client, url)

    import_lines(account, 27, start=100)
    many = queries_for(admin_client, url)

    assert StatementLine.objects.count() == 32
    assert Discrepancy.objects.count() == 30
    assert many == few


def test_statement_pages_show_the_result_and_the_lines(admin_client, account, paying_file):
    with at(DAY):
        confirm(admin_client, account, preview(admin_client, account, paying_file))
    statement = Statement.objects.get()

    listing = admin_client.get(reverse("admin:reconciliation_statement_changelist"))
    assert listing.context["cl"].result_count == 1
    page = admin_client.get(reverse("admin:reconciliation_statement_change", args=(statement.pk,)))
    assert page.status_code == 200
    content = page.content.decode()
    assert "张三" in content and "李四" in content
    assert f"statement__id__exact={statement.pk}" in content

    filtered = admin_client.get(
        reverse("admin:reconciliation_statementline_changelist")
        + f"?statement__id__exact={statement.pk}"
    )
    assert filtered.context["cl"].result_count == 2
    searched = admin_client.get(
        reverse("admin:reconciliation_statementline_changelist") + "?q=unrelated"
    )
    assert searched.context["cl"].result_count == 1
    line = StatementLine.objects.get(status=LineStatus.MATCHED)
    detail = admin_client.get(reverse("admin:reconciliation_statementline_change", args=(line.pk,)))
    assert detail.status_code == 200


@pytest.mark.parametrize("model", ["statement", "statementline", "match", "discrepancy"])
def test_what_an_import_wrote_cannot_be_edited_here(admin_client, model):
    assert admin_client.get(reverse(f"admin:reconciliation_{model}_add")).status_code == 403


def test_discrepancy_list_filters_by_kind_status_and_account(admin_client, account):
    import_lines(account, 2)
    url = reverse("admin:reconciliation_discrepancy_changelist")

    response = admin_client.get(
        url + f"?kind__exact=unmatched_line&status__exact=open&account__id__exact={account.pk}"
    )

    assert response.context["cl"].result_count == 2
    assert "Nothing in the books explains" in response.content.decode()
    discrepancy = Discrepancy.objects.first()
    assert (
        admin_client.get(
            reverse("admin:reconciliation_discrepancy_change", args=(discrepancy.pk,))
        ).status_code
        == 200
    )


# --- Receiving accounts and their column mapping -------------------------------------------


def account_form(**overrides) -> dict:
    return {
        "code": "rcb-cny",
        "name": "农商行一般户",
        "kind": "bank",
        "bank": "上海农商银行",
        "account_number": "3100 0000 0000 9876",
        "holder": "",
        "currency": "CNY",
        "default_format": "",
        "column_mapping": "",
        "active": "on",
        **overrides,
    }


def test_an_account_is_added_through_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:reconciliation_bankaccount_add"),
        account_form(column_mapping='{"name": "rcb", "booked_on": "入账日期", "amount": "金额"}'),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    account = BankAccount.objects.get(code="rcb-cny")
    assert account.column_mapping["booked_on"] == ["入账日期"]  # normalised by the service
    listing = admin_client.get(reverse("admin:reconciliation_bankaccount_changelist"))
    assert "•••• 9876" in listing.content.decode()


def test_a_mapping_the_reader_cannot_use_is_refused_on_its_field(admin_client, account):
    response = admin_client.post(
        reverse("admin:reconciliation_bankaccount_change", args=(account.pk,)),
        account_form(code=account.code, column_mapping='{"name": "rcb", "bookd_on": "日期"}'),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["column_mapping"]
    assert any("bookd_on" in error for error in errors)
    account.refresh_from_db()
    assert account.column_mapping is None


def test_the_mapping_preview_shows_rows_lines_or_the_error_and_saves_a_new_mapping(
    admin_client, account
):
    url = reverse("admin:reconciliation_bankaccount_preview_mapping", args=(account.pk,))
    sample = (LOCAL_BANK_HEADER + "\n2026-03-02,880.00,王五,三月管理费\n").encode()
    assert admin_client.get(url).status_code == 200

    unknown = admin_client.post(url, {"file": upload(sample), "mapping": "", "step": "preview"})
    result = unknown.context["result"]
    assert result["raw_rows"][0] == ["入账日期", "入账金额", "付款人", "备注"]
    assert "match none of the known bank exports" in result["error"]
    assert 'data-testid="mapping-error"' in unknown.content.decode()

    form = unknown.context["form"]
    typed = admin_client.post(
        url,
        {
            "mapping": "typed",
            "mapping_json": __import__("json").dumps(LOCAL_BANK_MAPPING, ensure_ascii=False),
            "kept": form["kept"].value(),
            "kept_digest": form["kept_digest"].value(),
            "step": "preview",
        },
    )
    result = typed.context["result"]
    assert result["error"] == ""
    assert [(str(line.amount), line.counterparty_name) for line in result["lines"]] == [
        ("880.00", "王五")
    ]

    saved = admin_client.post(
        url,
        {
            "mapping": "typed",
            "mapping_json": __import__("json").dumps(LOCAL_BANK_MAPPING, ensure_ascii=False),
            "step": "save",
        },
    )
    assert saved.status_code == 302
    account.refresh_from_db()
    assert account.column_mapping["name"] == "local-bank"

    # The saved mapping is what the import now reads this bank's files with.
    with at(DAY):
        imported = admin_client.post(
            IMPORT_URL,
            {"account": account.pk, "format": "auto", "file": upload(sample), "step": "preview"},
        )
    assert imported.context["preview"].mapping == "local-bank"


def test_the_mapping_preview_refuses_to_save_an_unusable_mapping(admin_client, account):
    url = reverse("admin:reconciliation_bankaccount_preview_mapping", args=(account.pk,))

    response = admin_client.post(
        url, {"mapping": "typed", "mapping_json": '{"name": "Bad Name"}', "step": "save"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["mapping_json"]
    account.refresh_from_db()
    assert account.column_mapping is None
