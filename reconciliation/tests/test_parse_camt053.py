"""camt.053 parsing against the sample files described in tests/samples/SOURCES.md."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from reconciliation.parsers.base import LineKind, StatementParseError
from reconciliation.parsers.camt053 import parse_camt053

SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / "camt053" / name).read_bytes()


def balanced(section) -> bool:
    total = sum((line.amount for line in section.lines), Decimal(0))
    return section.opening_balance + total == section.closing_balance


def test_oca_reversal_and_batch_split():
    parsed = parse_camt053(sample("oca_test-camt053.xml"))

    assert parsed.format == "camt053"
    (section,) = parsed.sections
    assert section.account == "NL77ABNA0574908765"
    assert section.currency == "EUR"
    assert section.statement_id == "1234Test/1"
    assert section.period_start == section.period_end == dt.date(2014, 1, 5)
    assert (section.opening_balance, section.closing_balance) == (
        Decimal("15568.27"),
        Decimal("15121.12"),
    )
    assert not balanced(section)  # the sample's balances do not match its entries
    assert [line.amount for line in section.lines] == [
        Decimal("-754.25"),
        Decimal("-564.05"),
        Decimal("-100.00"),
        Decimal("1405.31"),
    ]
    debit, *batch, credit = section.lines
    assert debit.kind == LineKind.TRANSFER
    assert debit.counterparty_name == "INSURANCE COMPANY TESTX"
    assert debit.end_to_end_id == "435005714488-ABNO33052620"
    assert debit.narrative.startswith("Insurance policy 857239PERIOD 01.01.2014 - 31.12.2014 | ")
    assert debit.raw["family"] == "RDDT"
    assert debit.raw["sub_family"] == "ESDD"
    assert [line.kind for line in batch] == [LineKind.REVERSAL, LineKind.REVERSAL]
    assert [line.path for line in batch] == [
        "/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/NtryDtls/TxDtls[1]",
        "/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/NtryDtls/TxDtls[2]",
    ]
    assert {line.line_no for line in batch} == {113}
    assert batch[0].end_to_end_id == "TESTBANK/NL/20141229/01206408"
    assert batch[0].raw["RvslInd"] == "true"
    assert batch[0].raw["return_reason"] == "AC06"
    assert credit.counterparty_name == "3rd party Media"
    assert credit.counterparty_account == "NL69ABNA0522123643"
    assert credit.narrative == "115 | #RD PARTY MEDIA CUSNO 90782 4210773"
    assert (credit.line_no, credit.path) == (228, "/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]")


def test_genkgo_two_statements():
    parsed = parse_camt053(sample("genkgo_camt053.v2.multi.statement.xml"))

    assert [s.statement_id for s in parsed.sections] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    assert all(balanced(section) for section in parsed.sections)
    first, second = parsed.sections
    assert (first.opening_balance, first.closing_balance) == (Decimal("18.15"), Decimal("27.00"))
    assert [line.amount for line in first.lines] == [Decimal("8.85")]
    assert [line.amount for line in second.lines] == [Decimal("-7.00")]
    assert second.lines[0].counterparty_name == "Company Name 2"
    assert second.lines[0].booked_on == dt.date(2014, 12, 31)
    assert second.lines[0].value_on == dt.date(2015, 1, 2)
    assert second.period_start is None


def test_genkgo_v8():
    data = sample("genkgo_camt053.v8.xml")
    (section,) = parse_camt053(data).sections

    assert section.account == "NL26VAYB8060476890"  # Acct/Id/Othr/Id
    assert section.currency == "EUR"
    assert section.closing_balance == Decimal("-27.00")  # CLBD in SEK, DBIT
    (line,) = section.lines
    assert line.amount == Decimal("8.85")  # the entry's, not the lone TxDtls' 0 SEK
    assert line.booked_on == dt.date(2014, 12, 31)  # BookgDt/DtTm
    assert line.counterparty_name == "NAME NAME"  # Dbtr/Pty/Nm
    assert line.counterparty_account == "NL56AGDH9619008421"
    assert line.reference == "AAAASESS-FP-CN_98765/01"
    assert line.narrative == "4654654654654654 | MUELL/FINP/RA12345"

    # the JPY closing available balance has no decimals
    as_closing = data.replace(b"<Cd>CLBD</Cd>", b"<Cd>ITBD</Cd>").replace(
        b"<Cd>CLAV</Cd>", b"<Cd>CLBD</Cd>"
    )
    assert parse_camt053(as_closing).sections[0].closing_balance == Decimal("-2700")
    with pytest.raises(StatementParseError) as error:
        parse_camt053(data.replace(b">2700<", b">27x0<"))
    assert error.value.where == "/Document/BkToCstmrStmt/Stmt[1]/Bal[4]/Amt (line 104)"
    assert error.value.message == "amount “27x0” is not a number"


def test_kedder_swiss_v8():
    (section,) = parse_camt053(sample("kedder_camt053.xml")).sections
    assert section.account == "0035-2915203-10-000"
    assert section.currency == "CHF"
    assert balanced(section)
    (line,) = section.lines
    assert line.amount == Decimal("1284.30")
    assert line.counterparty_name == "PAYEE"
    assert line.narrative == "PAYMENT INFO | 9502830971"


def test_kedder_davider80_without_transaction_details():
    (section,) = parse_camt053(sample("kedder_davider80.xml")).sections
    assert len(section.lines) == 16
    assert balanced(section)
    assert section.opening_balance == Decimal("9433.31")
    assert section.closing_balance == Decimal("5753.46")
    first = section.lines[0]
    assert first.amount == Decimal("-905.3")
    assert first.booked_on == dt.date(2017, 4, 1)  # "2017-04-01+02:00"
    assert first.narrative == "Sistema di addebitamento diretto xxxxxxxxxxxxxxxxxxxxxx AG"
    assert first.raw["family"] == "RDDT"


def test_kedder_gcamp6_anonymised_currency():
    (section,) = parse_camt053(sample("kedder_gcamp6.xml")).sections
    assert section.currency == "XXX"
    assert section.opening_balance == Decimal("0.00")
    assert len(section.lines) == 5
    assert {line.currency for line in section.lines} == {"XXX"}
    assert section.lines[0].amount == Decimal("10000.00")
    assert section.lines[0].narrative == "Account Transfer"


def test_truncated_xml():
    data = sample("oca_test-camt053.xml")
    with pytest.raises(StatementParseError) as error:
        parse_camt053(data[: len(data) // 2])
    assert error.value.where.startswith("line ")
    assert error.value.message.startswith("The file is not well-formed XML")


def test_amount_not_a_number():
    data = sample("oca_test-camt053.xml").replace(
        b'<Amt Ccy="EUR">664.05</Amt>', b'<Amt Ccy="EUR">abc</Amt>'
    )
    with pytest.raises(StatementParseError) as error:
        parse_camt053(data)
    assert error.value.where == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt (line 114)"
    assert error.value.message == "amount “abc” is not a number"


def test_missing_booking_date():
    lines = sample("oca_test-camt053.xml").split(b"\n")
    del lines[231:234]  # the third entry's <BookgDt>
    with pytest.raises(StatementParseError) as error:
        parse_camt053(b"\n".join(lines))
    assert error.value.where == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/BookgDt (line 228)"
    assert error.value.message == "missing BookgDt"


def test_unknown_namespace():
    data = sample("oca_test-camt053.xml").replace(
        b"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02", b"urn:example:statement"
    )
    with pytest.raises(StatementParseError) as error:
        parse_camt053(data)
    assert error.value.where == "/Document (line 1)"
    assert error.value.message == (
        "not an ISO 20022 document: <Document> in namespace “urn:example:statement”"
    )


def test_other_family_and_version_refused():
    with pytest.raises(StatementParseError) as error:
        parse_camt053((SAMPLES / "camt054" / "oca_test-camt054.xml").read_bytes())
    assert "not a camt.053 bank statement" in error.value.message

    data = sample("oca_test-camt053.xml").replace(b"camt.053.001.02", b"camt.053.001.09")
    with pytest.raises(StatementParseError) as error:
        parse_camt053(data)
    assert error.value.message == "camt.053.001.09 is not supported (camt.053.001.02 to .08 are)"


def test_doctype_refused():
    data = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n' + sample(
        "oca_test-camt053.xml"
    )
    with pytest.raises(StatementParseError) as error:
        parse_camt053(data)
    assert error.value.where == "line 2"
