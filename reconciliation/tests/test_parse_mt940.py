"""MT940 parsing against the sample files described in tests/samples/SOURCES.md."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from reconciliation.parsers.base import LineKind, StatementParseError
from reconciliation.parsers.mt940 import parse_mt940

SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "samples" / "mt940"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def assert_balanced(parsed):
    for section in parsed.sections:
        total = sum((line.amount for line in section.lines), Decimal(0))
        assert section.opening_balance + total == section.closing_balance, section.statement_id


def test_asn_swift_envelope_gives_31_statements_and_8_lines():
    parsed = parse_mt940(sample("ASNB_0708271685_09022020_164516.940.txt"))

    assert parsed.format == "mt940"
    assert len(parsed.sections) == 31
    assert len(parsed.lines) == 8
    assert_balanced(parsed)
    first = parsed.sections[0]
    assert first.account == "NL81ASNB9999999999"
    assert first.currency == "EUR"
    assert first.statement_id == "0000000000 1/1"
    assert (first.opening_balance, first.closing_balance) == (Decimal("444.29"), Decimal("379.29"))
    assert first.period_start == first.period_end == dt.date(2020, 1, 1)
    line = first.lines[0]
    assert (line.line_no, line.path) == (6, "line 6")
    assert line.amount == Decimal("-65.00")
    assert line.counterparty_name == "hr gjlm paulissen"
    assert line.counterparty_account == "NL47INGB9999999999"
    assert line.reference == ""
    assert "Betaling sieraden" in line.narrative
    assert parsed.sections[4].lines[0].amount == Decimal("1000.00")
    assert parsed.sections[4].lines[1].amount == Decimal("-801.55")


def test_betterplace_reversals_are_signed_by_their_effect_on_the_balance():
    parsed = parse_mt940(sample("betterplace_sepa_mt9401.sta"))

    assert len(parsed.sections) == 26
    assert len(parsed.lines) == 97
    assert_balanced(parsed)
    first = parsed.sections[0]
    assert first.account == "50880050/0194774600888"
    assert first.opening_balance == Decimal("-1234718.36")  # :60F:D
    assert first.closing_balance == Decimal("-1237628.23")
    reversals = [line for line in parsed.lines if line.kind == LineKind.REVERSAL]
    assert [(r.line_no, r.amount) for r in reversals] == [
        (19, Decimal("-204.88")),
        (101, Decimal("-204.88")),
    ]
    assert reversals[0].raw["mark"] == "RC"
    assert reversals[0].narrative == "0904059003 | SAMMLER/STORNO"
    assert reversals[1].reference == "R724710290656678"
    assert first.lines[0].amount == Decimal("300")
    assert first.lines[0].reference == "0724710345313905"
    assert first.lines[0].raw["funds_code"] == "R"


def test_betterplace_structured_details():
    line = next(
        li for li in parse_mt940(sample("betterplace_sepa_mt9401.sta")).lines if li.line_no == 30
    )

    assert line.amount == Decimal("15000.05")
    assert line.counterparty_name == "Richter Renate 70 Zeichen Beginn Fuellzeichen xxxxxxxx"
    assert line.counterparty_account == "DE42100100100043921105"
    assert line.end_to_end_id == "EndToEndIdTFNR2000400001"
    assert line.narrative.startswith("EREF+EndToEndIdTFNR2000400001 SVWZ+TO 13 TFNr 20004")
    assert line.raw["gvc"] == "166"
    assert line.raw["?00"] == "GUTSCHRIFT"
    assert line.raw["?30"] == "PBNKDEFF100"
    assert line.raw["86"].startswith("166?00GUTSCHRIFT?100399?20EREF+")


def test_mbank_control_bytes_and_bank_reference():
    parsed = parse_mt940(sample("mBank_mt940.sta"))

    assert len(parsed.sections) == 1
    section = parsed.sections[0]
    assert section.account == "PL29114010810000267002001002"
    assert section.currency == "PLN"
    assert (section.opening_balance, section.closing_balance) == (Decimal("0.40"), Decimal("0.43"))
    assert [line.amount for line in section.lines] == [Decimal("0.01")] * 3
    assert [line.reference for line in section.lines] == [
        "MB170119012058",
        "MB170119012085",
        "MB170119012121",
    ]
    assert section.lines[0].narrative.endswith("TNR: 179171073864111.010001 | 911-TRANSAKCJA IPH")
    assert_balanced(parsed)


def test_abnamro_two_statements_do_not_balance():
    data = sample("jejik_abnamro.sta")
    with pytest.raises(StatementParseError) as error:
        parse_mt940(data)
    assert error.value.where == "line 27"
    assert "does not balance" in error.value.message
    assert "plus the lines -321.44 is 2914.84, but the closing balance is 876.84" in str(
        error.value
    )

    parsed = parse_mt940(data, check_balance=False)
    assert [len(s.lines) for s in parsed.sections] == [8, 2]
    assert [s.statement_id for s in parsed.sections] == [
        "ABN AMRO BANK NV 19321/1",
        "ABN AMRO BANK NV 19322/1",
    ]
    assert parsed.sections[1].opening_balance == Decimal("2876.84")  # :60M:
    assert parsed.sections[1].closing_balance == Decimal("1849.75")  # :62M:
    line = parsed.sections[0].lines[1]
    assert (line.line_no, line.amount) == (12, Decimal("-11.59"))
    assert (line.value_on, line.booked_on) == (dt.date(2011, 5, 21), dt.date(2011, 5, 23))
    assert parsed.sections[0].lines[6].line_no == 23  # after the blank line
    assert parsed.sections[0].lines[0].narrative.startswith("GIRO 428428 KPN - DIGITENNE")


def test_ing_preheader_soft_hyphens_tabs_and_closing_information():
    with pytest.raises(StatementParseError) as error:
        parse_mt940(sample("jejik_ing.sta"))
    assert error.value.where == "line 26"

    parsed = parse_mt940(sample("jejik_ing.sta"), check_balance=False)
    (section,) = parsed.sections
    assert section.account == "0001234567"
    assert len(section.lines) == 7
    assert section.lines[1].narrative == "0111111111 GPSEOUL SPOEDBETALING MPBZS1016000047 GPSEOUL"
    assert "TRANSACTIENR 0050000534527978 10-06-2010 15:32" in section.lines[2].narrative
    assert section.lines[2].reference == "TMG TANGO"
    last = section.lines[-1]
    assert last.amount == Decimal("1.00")
    assert "D000004C000002" not in last.narrative + last.raw["86"]


def test_raiffeisen_cp852():
    data = sample("self-provided_raiffeisen-cmi.sta")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(StatementParseError) as error:
        parse_mt940(data)
    assert error.value.where == "line 40"

    (section,) = parse_mt940(data, check_balance=False).sections
    assert section.account == "UBRTHUHB/123456789150ABCDEF002/HUF"
    assert section.currency == "HUF"
    assert section.opening_balance == Decimal("25170637.10")
    assert len(section.lines) == 7
    first = section.lines[0]
    assert first.amount == Decimal("2066637.00")
    assert first.booked_on == first.value_on == dt.date(2018, 4, 17)  # no entry date
    assert first.raw["supplementary_details"] == "Csoportos átutalás jóváírása"
    assert "UV, napi összevont utánvét" in first.narrative
    assert section.lines[1].narrative.endswith("| Bankon belüli átutalás")
    assert section.lines[3].narrative.endswith("| Díj, jutalék")


MINIMAL = """:20:REF1
:25:NL00BANK0123456789
:28C:1/1
:60F:C230101EUR100,00
:61:{line}
:86:Invoice 42
:62F:C230102EUR{closing}
-
"""


def minimal(line: str = "2301020102C50,00NTRFNONREF//B1", closing: str = "150,00") -> bytes:
    return MINIMAL.format(line=line, closing=closing).encode()


def test_minimal_statement_and_rd_reversal():
    (line,) = parse_mt940(minimal()).lines
    assert (line.amount, line.reference, line.narrative) == (Decimal("50.00"), "B1", "Invoice 42")
    (line,) = parse_mt940(minimal("2301020102RD50,00NTRFNONREF")).lines
    assert (line.kind, line.amount) == (LineKind.REVERSAL, Decimal("50.00"))


def test_latin1_file():
    data = minimal().replace(b"Invoice 42", "Müller Straße".encode("latin-1"))
    assert parse_mt940(data).lines[0].narrative == "Müller Straße"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2301020102Cabc,00NTRFNONREF", "field :61: amount “abc,00” is not a number"),
        ("2301020102C12.50NTRFNONREF", "field :61: amount “12.50” is not a number"),
        ("2313450102C50,00NTRFNONREF", "field :61: date “231345” is not a date (YYMMDD)"),
        ("2301021399C50,00NTRFNONREF", "field :61: entry date “1399” is not a date (MMDD)"),
        (
            "2301020102X50,00NTRFNONREF",
            "field :61: “X50,00” is not a debit/credit mark (C, D, RC, RD)",
        ),
    ],
)
def test_broken_statement_line(line, message):
    with pytest.raises(StatementParseError) as error:
        parse_mt940(minimal(line))
    assert (error.value.where, error.value.message) == ("line 5", message)


def test_unbalanced_statement():
    with pytest.raises(StatementParseError) as error:
        parse_mt940(minimal(closing="149,99"))
    assert error.value.where == "line 7"
    assert error.value.message == (
        "statement REF1 1/1 does not balance: opening 100.00 plus the lines 50.00 is "
        "150.00, but the closing balance is 149.99"
    )


def test_missing_closing_balance():
    data = minimal().replace(b":62F:C230102EUR150,00\n", b"")
    with pytest.raises(StatementParseError) as error:
        parse_mt940(data)
    assert error.value.where == "line 1"
    assert error.value.message == "statement REF1 1/1 has no :62F:/:62M: balance"


def test_not_mt940():
    with pytest.raises(StatementParseError) as error:
        parse_mt940(b"Date;Amount\n2023-01-02;50.00\n")
    assert error.value.where == "line 1"
    assert error.value.message == "not an MT940 statement: no :20: field starts a statement"
