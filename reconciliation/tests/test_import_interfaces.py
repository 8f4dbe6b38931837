"""The ways in to a statement import — the command and the REST API — and the charge
detail that tells integrators how to be paid by bank transfer."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.choices import ChargeStatus
from reconciliation.models import BankAccount, Statement
from tests.clock import at

from .statements import DAY, Entry, camt053, receiving_account, reference_of, transfer_notice

pytestmark = pytest.mark.django_db


def command(*args):
    out = io.StringIO()
    with at(DAY):
        call_command("import_statement", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_what_the_import_did_and_a_repeat_says_so(tmp_path):
    receiving_account()
    charge = transfer_notice()
    path = tmp_path / "march.xml"
    path.write_bytes(camt053(Entry("3000.00", reference_of(charge)), Entry("5.00", "利息")))

    first = command(str(path), "--account", "icbc-cny")
    again = command(str(path), "--account", "icbc-cny", "--format", "camt053")

    for label, value in [
        ("lines read", 2),
        ("new", 2),
        ("duplicates skipped", 0),
        ("settled", 1),
        ("suggested", 0),
        ("unmatched", 1),
    ]:
        assert f"  {label}: {value}\n" in first
    assert "already imported" in again and "  new: 0\n" in again
    assert "  duplicates skipped: 2\n" in again
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID


def test_the_command_fails_with_the_line_numbered_error(tmp_path):
    receiving_account()
    path = tmp_path / "broken.xml"
    path.write_bytes(
        camt053(Entry("5.00", "x")).replace(
            b"<BookgDt><Dt>2026-03-02</Dt>", b"<BookgDt><Dt>2026-13-02</Dt>"
        )
    )

    with pytest.raises(CommandError) as error:
        command(str(path), "--account", "icbc-cny")

    assert "line" in str(error.value) and "2026-13-02" in str(error.value)
    assert not Statement.objects.exists()
    with pytest.raises(CommandError, match="nope"):
        command(str(path), "--account", "nope")


def upload(data: bytes, name="march.xml"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_the_api_adds_an_account_and_imports_into_it(api):
    created = api.post(
        "/api/v1/bank-accounts/",
        {
            "code": "icbc-cny",
            "name": "工商银行基本户",
            "bank": "中国工商银行",
            "account_number": "CN12ICBC0200001234567890",
            "currency": "CNY",
            "receives_transfers": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["account_number"] == "•••• 7890"
    duplicate = api.post(
        "/api/v1/bank-accounts/",
        {"code": "icbc-cny", "name": "x", "account_number": "1", "currency": "CNY"},
        format="json",
    )
    assert duplicate.status_code == 400 and "code" in duplicate.json()

    charge = transfer_notice()
    data = camt053(Entry("3000.00", reference_of(charge)), Entry("9.99", "不明"))
    with at(DAY):
        first = api.post(
            "/api/v1/statements/", {"file": upload(data), "account": "icbc-cny"}, format="multipart"
        )
        again = api.post(
            "/api/v1/statements/",
            {"file": upload(data), "account": str(created.json()["id"])},
            format="multipart",
        )

    assert first.status_code == 201, first.json()
    assert {
        k: first.json()[k]
        for k in ("lines_read", "lines_new", "duplicates", "settled", "suggested", "unmatched")
    } == {
        "lines_read": 2,
        "lines_new": 2,
        "duplicates": 0,
        "settled": 1,
        "suggested": 0,
        "unmatched": 1,
    }
    assert again.status_code == 200 and again.json()["already_imported"] is True
    statement = first.json()["statement"]

    lines = api.get("/api/v1/statement-lines/", {"statement": statement}).json()["results"]
    by_amount = {line["amount"]: line for line in lines}
    assert by_amount["3000.00"]["status"] == "matched"
    assert by_amount["3000.00"]["matched_charge"] == charge.pk
    assert (
        by_amount["9.99"]["status"] == "unmatched" and by_amount["9.99"]["matched_charge"] is None
    )

    discrepancies = api.get("/api/v1/discrepancies/").json()["results"]
    assert [(d["kind"], d["amount"], d["status"]) for d in discrepancies] == [
        ("unmatched_line", "9.99", "open")
    ]
    listed = api.get("/api/v1/statements/").json()["results"]
    assert [s["id"] for s in listed] == [statement]


def test_an_unreadable_upload_is_a_400_naming_the_line_and_writes_nothing(api):
    receiving_account()
    broken = camt053(Entry("5.00", "x")).replace(b">5.00<", b">five<")
    response = api.post(
        "/api/v1/statements/", {"file": upload(broken), "account": "icbc-cny"}, format="multipart"
    )
    assert response.status_code == 400
    assert "five" in response.json()["file"][0] and "Ntry[1]" in response.json()["file"][0]
    assert not Statement.objects.exists()
    unknown = api.post(
        "/api/v1/statements/", {"file": upload(broken), "account": "nope"}, format="multipart"
    )
    assert unknown.status_code == 400 and "account" in unknown.json()


def test_a_bank_transfer_charge_shows_how_to_pay_it(api):
    account = receiving_account()
    charge = transfer_notice()

    detail = api.get(f"/api/v1/charges/{charge.pk}/").json()

    assert detail["payment_reference"] == reference_of(charge)
    assert detail["pay_to"] == {
        "code": account.code,
        "name": account.name,
        "bank": account.bank,
        "account_number": account.account_number,
        "holder": account.holder,
        "currency": "CNY",
    }
    BankAccount.objects.update(receives_transfers=False)
    assert api.get(f"/api/v1/charges/{charge.pk}/").json()["pay_to"] is None


def test_the_api_resolves_discrepancies(api):
    receiving_account()
    with at(DAY):
        api.post(
            "/api/v1/statements/",
            {"file": upload(camt053(Entry("7.00", "利息"))), "account": "icbc-cny"},
            format="multipart",
        )
    (gap,) = api.get("/api/v1/discrepancies/").json()["results"]
    url = f"/api/v1/discrepancies/{gap['id']}/resolve/"

    assert api.post(url, {"outcome": "assign"}, format="json").status_code == 400  # no charge
    assert api.post(url, {"outcome": "waived"}, format="json").status_code == 400  # no note
    done = api.post(url, {"outcome": "not_ours", "note": "利息收入"}, format="json")

    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "resolved" and done.json()["resolution"] == "利息收入"
    assert api.post(url, {"outcome": "waived", "note": "x"}, format="json").status_code == 400


@pytest.mark.parametrize(
    "url", ["/api/v1/statement-lines/", "/api/v1/discrepancies/", "/api/v1/matches/",
            "/api/v1/statements/", "/api/v1/bank-accounts/", "/api/v1/reconciliation-runs/"],
)  # fmt: skip
def test_lists_cost_the_same_queries_for_more_rows(api, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    receiving_account()

    def load(count, start):
        charges = [transfer_notice(f"{start + n}.00") for n in range(count)]
        entries = [Entry(str(c.amount.amount), reference_of(c)) for c in charges]
        entries += [Entry(f"{start + n}.37", "不明来款") for n in range(count)]
        with at(DAY):
            api.post(
                "/api/v1/statements/",
                {"file": upload(camt053(*entries), f"{start}.xml"), "account": "icbc-cny"},
                format="multipart",
            )

    load(1, 100)
    with CaptureQueriesContext(connection) as few:
        assert api.get(url).status_code == 200
    load(8, 200)
    with CaptureQueriesContext(connection) as many:
        assert api.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
