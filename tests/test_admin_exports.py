"""The CSV and Excel exports of the charges, payment attempts, statement lines and
alerts lists (docs/exports.md), through the admin as a finance user would use them:
the rows of the current filters only, readable headers, numbers that add up, a
fixed number of queries, and only for users who may see the list."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from alerts.models import Alert
from alerts.resources import AlertResource
from billing.models import Charge
from contracts.tests.factories import CustomerFactory, make_contract
from payments.models import PaymentAttempt
from reconciliation.models import BankAccount, Statement, StatementLine

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"  # the order of ExportAdminMixin.export_formats
CHARGES = reverse("admin:billing_charge_export")
ATTEMPTS = reverse("admin:payments_paymentattempt_export")
LINES = reverse("admin:reconciliation_statementline_export")
ALERTS = reverse("admin:alerts_alert_export")


# --- rows ---------------------------------------------------------------------------


def charges(
    count: int, *, status: str = "pending", due: dt.date = dt.date(2026, 3, 1), customer=None
):
    """``count`` charges of one contract, one a month from January 2020 on (distinct
    periods), all due on ``due``."""
    contract = make_contract(customer=customer or CustomerFactory())
    fee = contract.fees.get()
    start = Charge.objects.filter(fee=fee).count()
    made = []
    for n in range(start, start + count):
        period = dt.date(2020 + n // 12, n % 12 + 1, 1)
        made.append(
            Charge(
                contract=contract,
                fee=fee,
                kind="recurring",
                period_start=period,
                period_end=period + dt.timedelta(days=27),
                due_date=due,
                amount=Money(Decimal("1234.50"), "CNY"),
                status=status,
            )
        )
    return Charge.objects.bulk_create(made)


def attempts(count: int, *, status: str = "failed"):
    rows = []
    for n, charge in enumerate(charges(count)):
        rows.append(
            PaymentAttempt(
                charge=charge,
                number=1,
                idempotency_key=f"{status[:4]}-{charge.pk}-{n}",
                method="alipay",
                amount=Money(Decimal("99.90"), "CNY"),
                status=status,
                error_code="card_declined" if status == "failed" else "",
            )
        )
    return PaymentAttempt.objects.bulk_create(rows)


def statement_lines(count: int, *, status: str = "unmatched"):
    account, _new = BankAccount.objects.get_or_create(
        code="icbc", defaults={"name": "ICBC", "account_number": "6222000011112222"}
    )
    statement = Statement.objects.create(
        account=account, format="csv", filename=f"{status}.csv", digest=f"{status}-{count}"
    )
    return StatementLine.objects.bulk_create(
        StatementLine(
            statement=statement,
            account=account,
            line_no=n + 1,
            booked_on=dt.date(2026, 3, 2),
            amount=Money(Decimal("-20.00") if n % 2 else Decimal("3000.00"), "CNY"),
            fee=Decimal("1.50"),
            kind="transfer",
            counterparty_name="=HYPERLINK(1)" if n == 0 else f"付款人 {n}",
            fingerprint=f"{statement.pk}-{n}",
            status=status,
        )
        for n in range(count)
    )


# --- users and requests -------------------------------------------------------------


@pytest.fixture
def viewer(client, django_user_model):
    """A staff user who may view the four lists and nothing more."""
    user = django_user_model.objects.create_user("finance", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_charge", "view_paymentattempt", "view_statementline"]
        )
    )
    client.force_login(user)
    return client


def export(client, url: str, params: str = "", file_format: str = CSV_FORMAT):
    response = client.post(f"{url}?{params}", {"format": file_format, "resource": "0"})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment;")
    return response


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def sheet(response):
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def queries_of(client, url, params="", file_format=XLSX_FORMAT) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        export(client, url, params, file_format)
    return [q["sql"] for q in captured.captured_queries]


# --- what is exported ---------------------------------------------------------------


def test_the_charges_export_holds_exactly_the_rows_of_the_filters_and_search(viewer):
    acme = CustomerFactory(code="ACME01", name="艾克米")
    wanted = charges(2, status="overdue", due=dt.date(2026, 2, 10), customer=acme)
    charges(2, status="overdue", due=dt.date(2026, 5, 10), customer=acme)  # outside the dates
    charges(2, status="pending", due=dt.date(2026, 2, 10), customer=acme)  # another status
    charges(2, status="overdue", due=dt.date(2026, 2, 10))  # another customer

    response = export(
        viewer,
        CHARGES,
        "status__exact=overdue&due_date_from=2026-02-01&due_date_to=2026-02-28&q=ACME01",
    )

    header, *rows = csv_rows(response)
    assert header[:4] == ["ID", "contract number", "customer code", "customer"]
    assert sorted(int(row[0]) for row in rows) == sorted(c.pk for c in wanted)
    assert {row[header.index("status")] for row in rows} == {"Overdue"}
    assert {row[header.index("customer")] for row in rows} == {"艾克米"}


def test_the_csv_keeps_money_as_a_plain_number_and_its_currency_apart(viewer):
    charges(1, status="overdue")

    response = export(viewer, CHARGES)

    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads the CSV as UTF-8
    header, row = csv_rows(response)
    assert header == [
        "ID",
        "contract number",
        "customer code",
        "customer",
        "kind",
        "period start",
        "period end",
        "due date",
        "amount",
        "currency",
        "status",
        "prorated",
        "next collection step",
        "created at",
    ]
    values = dict(zip(header, row, strict=True))
    assert values["amount"] == "1234.50"
    assert values["currency"] == "CNY"
    assert values["kind"] == "Recurring fee"
    assert values["due date"] == "2026-03-01"
    assert values["prorated"] == "No"


def test_the_excel_export_has_chinese_headers_numeric_amounts_and_real_dates(viewer, zh_hans):
    charges(2, status="overdue")

    ws = sheet(export(viewer, CHARGES, "status__exact=overdue", XLSX_FORMAT))

    headers = [cell.value for cell in ws[1]]
    assert headers[:4] == ["ID", "合同编号", "客户编号", "客户"]
    assert {"金额", "币种", "状态", "到期日"} <= set(headers)
    amount, currency, status, due = (
        ws.cell(row=2, column=headers.index(name) + 1)
        for name in ("金额", "币种", "状态", "到期日")
    )
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("1234.50")
    assert currency.value == "CNY"
    assert status.value == "逾期"  # the label, not the code "overdue"
    assert due.is_date and due.value.date() == dt.date(2026, 3, 1)
    assert ws.max_row == 3


def test_the_payment_attempts_export_follows_its_status_filter(viewer, zh_hans):
    failed = attempts(2, status="failed")
    attempts(3, status="succeeded")

    ws = sheet(export(viewer, ATTEMPTS, "status__exact=failed", XLSX_FORMAT))

    headers = [cell.value for cell in ws[1]]
    rows = [[cell.value for cell in row] for row in ws.iter_rows(min_row=2)]
    assert sorted(r[headers.index("幂等键")] for r in rows) == sorted(
        a.idempotency_key for a in failed
    )
    assert {r[headers.index("状态")] for r in rows} == {"扣款失败"}
    assert {r[headers.index("支付方式")] for r in rows} == {"支付宝"}
    amount = ws.cell(row=2, column=headers.index("金额") + 1)
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("99.90")


def test_the_statement_lines_export_follows_its_filters_and_writes_no_formula(viewer):
    statement_lines(3, status="unmatched")
    statement_lines(2, status="ignored")

    ws = sheet(export(viewer, LINES, "status__exact=unmatched", XLSX_FORMAT))

    headers = [cell.value for cell in ws[1]]
    rows = [[cell.value for cell in row] for row in ws.iter_rows(min_row=2)]
    assert len(rows) == 3
    assert {r[headers.index("status")] for r in rows} == {"Unmatched"}
    assert sorted(Decimal(str(r[headers.index("amount")])) for r in rows) == [
        Decimal("-20.00"),
        Decimal("3000.00"),
        Decimal("3000.00"),
    ]
    payer = ws.cell(row=2, column=headers.index("payer / payee") + 1)
    assert payer.data_type == "s" and payer.value == "HYPERLINK(1)"
    fee = ws.cell(row=2, column=headers.index("gateway fee") + 1)
    assert fee.data_type == "n"


# --- cost ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "make", "params"),
    [
        (CHARGES, lambda n: charges(n, status="overdue"), "status__exact=overdue"),
        (ATTEMPTS, lambda n: attempts(n), "status__exact=failed"),
        (LINES, lambda n: statement_lines(n), "status__exact=unmatched"),
    ],
    ids=["charges", "attempts", "statement-lines"],
)
def test_an_export_costs_the_same_queries_for_30_rows_as_for_3(viewer, url, make, params):
    make(3)
    for_three = queries_of(viewer, url, params)
    make(27)

    for_thirty = queries_of(viewer, url, params)

    assert len(for_thirty) == len(for_three)
    assert not [q for q in for_thirty if "COUNT(" in q.upper()]  # never counts the table


def test_the_alerts_export_reads_its_rows_in_one_query(django_assert_num_queries):
    def raise_alerts(first, count):
        customer = CustomerFactory()
        Alert.objects.bulk_create(
            Alert(kind="charge_overdue", subject=f"charge:{n}", customer=customer, message="…")
            for n in range(first, first + count)
        )

    raise_alerts(0, 3)
    with django_assert_num_queries(1):
        three = AlertResource().export(queryset=Alert.objects.all())
    raise_alerts(3, 27)
    with django_assert_num_queries(1):
        thirty = AlertResource().export(queryset=Alert.objects.all())

    assert (len(three), len(thirty)) == (3, 30)
    assert thirty.headers[:3] == ["ID", "kind", "severity"]
    assert set(thirty["kind"]) == {"Charge overdue"}


def test_the_alerts_list_exports_only_the_open_alerts_when_filtered(admin_client, zh_hans):
    Alert.objects.bulk_create(
        [
            Alert(kind="charge_overdue", subject="charge:1", message="逾期", status="open"),
            Alert(kind="charge_overdue", subject="charge:2", message="已处理", status="resolved"),
        ]
    )

    rows = sheet(export(admin_client, ALERTS, "open=yes", XLSX_FORMAT))
    values = [[cell.value for cell in row] for row in rows.iter_rows()]

    assert len(values) == 2  # the header and the one open alert
    assert values[0][1] == "预警类型"
    assert "逾期" in values[1] and "已处理" not in values[1]


# --- who may export ----------------------------------------------------------------


def test_the_changelist_offers_an_export_of_its_current_filters(viewer):
    charges(1, status="overdue")

    page = viewer.get(reverse("admin:billing_charge_changelist"), {"status__exact": "overdue"})

    assert page.status_code == 200
    assert f"{CHARGES}?status__exact=overdue" in page.text


def test_a_staff_user_who_may_not_view_a_list_cannot_export_it(client, django_user_model):
    charges(2, status="overdue")
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_paymentattempt"))
    client.force_login(user)

    form = client.get(CHARGES)
    posted = client.post(CHARGES, {"format": CSV_FORMAT, "resource": "0"})

    assert form.status_code == 403
    assert posted.status_code == 403
    assert b"1234.50" not in posted.content
    assert client.get(ATTEMPTS).status_code == 200  # the list they may view, they may export


def test_the_csv_of_statement_lines_starts_no_formula_in_excel(viewer):
    statement_lines(2)

    header, *rows = csv_rows(export(viewer, LINES))

    payers = sorted(row[header.index("payer / payee")] for row in rows)
    assert payers == ["HYPERLINK(1)", "付款人 1"]
