"""Chinese bank exports (tests/samples/cn_bank, see tests/samples/SOURCES.md) and the
generic mapping-driven reader behind them."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from reconciliation.parsers.base import LineKind, StatementParseError
from reconciliation.parsers.encoding import decode_bytes
from reconciliation.parsers.tabular import (
    BUILTIN_MAPPINGS,
    ColumnMapping,
    MappingError,
    detect_mapping,
    parse_tabular,
    preview_rows,
)

SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "samples" / "cn_bank"
ICBC = SAMPLES / "icbc_debit-v2_example-icbc-debit-v2-records.csv"
CCB = SAMPLES / "ccb_交易明细_xxxx_2025xxxx_2025xxxx.xls"
BOC = SAMPLES / "boc_debit_example-boc-records.csv"
ABC = SAMPLES / "abc_debit_example-abc_debit-records.csv"
CMB = SAMPLES / "cmb_debit_example-cmb-records.csv"
BOCOM = SAMPLES / "bocom_debit_example-bocom_debit-records.csv"


def parse(path: Path, **kwargs):
    return parse_tabular(path.read_bytes(), filename=path.name, **kwargs)


def total(parsed) -> Decimal:
    return sum((line.amount for line in parsed.lines), Decimal(0))


def test_icbc_booked_amounts_padding_and_totals_row():
    parsed = parse(ICBC)
    assert (parsed.format, parsed.mapping) == ("csv", "icbc")
    assert parsed.sections[0].account == "1234****9876"
    lines = parsed.lines
    assert len(lines) == 11  # the 人民币合计 row on line 20 is not a movement
    assert all("合计" not in "".join(line.raw.values()) for line in lines)
    first, last = lines[0], lines[-1]
    assert (first.line_no, first.booked_on, first.amount) == (
        8,
        dt.date(2023, 5, 2),
        Decimal("-13.40"),
    )
    assert first.counterparty_name == "深圳市财付通支付科技有限公司"
    assert first.narrative == "消费 | 广东三元麦当劳食品有"
    assert first.currency == "CNY"
    assert first.raw["记账金额(支出)"] == "13.40"  # TAB and padding trimmed
    assert lines[1].amount == Decimal("-1234.56")  # "1,234.56"
    assert (last.line_no, last.amount, last.narrative) == (
        18,
        Decimal("1.04"),
        "退款 | 财付通-微信红包",
    )
    assert total(parsed) == Decimal("-1399.34")
    assert {line.kind for line in lines} == {LineKind.TRANSFER}


def test_ccb_xls_real_header_and_trailer():
    parsed = parse(CCB)
    assert (parsed.format, parsed.mapping) == ("xls", "ccb")
    assert parsed.sections[0].account == "xxxxx*********xxxx"
    lines = parsed.lines
    assert len(lines) == 6  # the 以上数据仅供参考 disclaimer on row 13 is dropped
    first = lines[0]
    assert first.path == "row 7 of sheet 交易明细_1546_20250101_20250620.xls"
    assert (first.booked_on, first.value_on, first.amount) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 1, 1),
        Decimal("-67.00"),
    )
    assert first.counterparty_name == "中***融科技有限公司"
    assert first.counterparty_account == "20883313166*****0156"
    assert first.narrative == "消费 | 支付宝-支付宝外部商户-中移动金融科技有限公司"
    assert lines[-1].amount == Decimal("-66.40")  # float 66.4 read exactly
    assert total(parsed) == Decimal("-703.26")


def test_boc_signed_amounts_and_dash_placeholders():
    parsed = parse(BOC)
    assert parsed.mapping == "boc"
    lines = parsed.lines
    assert len(lines) == 17
    first = lines[0]
    assert (first.line_no, first.booked_on, first.amount) == (
        3,
        dt.date(2025, 8, 22),
        Decimal("-71.89"),
    )
    assert first.narrative == "无卡支付"  # 附言 "----------" is empty
    assert first.counterparty_account == "6226******5669"
    salary = next(line for line in lines if line.amount == Decimal("5771.00"))
    assert salary.narrative == "工资"
    assert salary.counterparty_name == "美金数据有限公司"
    big = next(line for line in lines if line.booked_on == dt.date(2025, 8, 12))
    assert big.amount == Decimal("-2600.00")
    assert big.narrative == "跨行转账 | 数据有限公司"
    assert big.raw["网点名称"] == "------------------- 张三17670961139美金"  # raw is untouched
    assert (lines[-1].line_no, lines[-1].amount) == (19, Decimal("1000.00"))
    assert total(parsed) == Decimal("426.70")


def test_abc_spaced_header_explicit_signs_ragged_rows():
    parsed = parse(ABC)
    assert parsed.mapping == "abc"
    lines = parsed.lines
    assert len(lines) == 5
    first = lines[0]
    assert (first.booked_on, first.amount, first.reference) == (
        dt.date(2024, 1, 1),
        Decimal("10000.00"),
        "369396693",
    )
    assert first.counterparty_name == "哈哈"
    assert first.narrative == "转存 | 转账"
    assert lines[2].amount == Decimal("-12345.89")  # a 7-cell row under a 9-cell header
    assert lines[2].reference == "111222333"
    assert lines[3].reference == ""  # 0000000000
    assert lines[3].counterparty_name == ""  # "--"
    assert (lines[-1].line_no, lines[-1].amount) == (6, Decimal("0.00"))
    assert total(parsed) == Decimal("-2355.88")


def test_cmb_signed_column_unsorted_rows():
    parsed = parse(CMB)
    assert parsed.mapping == "cmb"
    lines = parsed.lines
    assert len(lines) == 5
    assert (lines[0].booked_on, lines[0].amount) == (dt.date(2024, 1, 1), Decimal("1234.00"))
    assert lines[0].narrative == "代发住房公积金 | 01月01日约定提取"
    assert lines[1].amount == Decimal("-1000.00")
    assert lines[-1].booked_on == dt.date(2024, 1, 23)
    assert lines[-1].amount == Decimal("-10.14")
    assert total(parsed) == Decimal("-779.14")


def test_bocom_direction_column():
    parsed = parse(BOCOM)
    assert parsed.mapping == "bocom"
    lines = parsed.lines
    assert len(lines) == 6
    assert (lines[0].amount, lines[0].raw["借贷"]) == (Decimal("1.23"), "贷 Cr")
    assert (lines[1].amount, lines[1].raw["借贷"]) == (Decimal("-3.21"), "借 Dr")
    assert lines[1].counterparty_name == "哈哈"
    assert lines[1].counterparty_account == "6666666666666666"
    assert lines[-1].amount == Decimal("-100.79")
    assert lines[-1].booked_on == dt.date(2024, 6, 6)
    assert "交易流水号20250123123213213131321313131" in lines[-1].narrative
    assert total(parsed) == Decimal("-102.75")


@pytest.mark.parametrize(
    ("path", "name"),
    [(ICBC, "icbc"), (CCB, "ccb"), (BOC, "boc"), (ABC, "abc"), (CMB, "cmb"), (BOCOM, "bocom")],
)
def test_detect_mapping_picks_the_bank(path, name):
    assert detect_mapping(path.read_bytes(), filename=path.name).name == name


def test_preview_rows_is_raw_and_trimmed():
    rows = preview_rows(ICBC.read_bytes(), rows=8)
    assert rows[0] == ["明细查询文件下载"]
    assert rows[6][:3] == ["交易日期", "摘要", "交易详情"]
    assert rows[7][:2] == ["2023-05-02", "消费"]
    xls_rows = preview_rows(CCB.read_bytes(), rows=7)
    assert xls_rows[0][0] == "China Construction Bank"
    assert xls_rows[5][:5] == ["记账日", "交易日期", "交易时间", "支出", "收入"]
    assert xls_rows[6][3] == "67"


CORPORATE = (
    "账户明细查询\n"
    "账号：11001234567890123456,户名：某某教育咨询有限公司\n"
    "交易日期,交易流水号,借方发生额,贷方发生额,余额,对方户名,对方账号,摘要,用途\n"
    '2026-01-05,T2026010500001,,"12,800.00",12800.00,张三,6222021234567890,转账,'
    "学费 FEE-2026-000123\n"
    "2026/01/06 10:01:02,T2026010600002,￥35.00,,12765.00,某某银行,,手续费,\n"
    "20260107,T2026010700003,,+3500.00,16265.00,李四,6217001234567890,网银转账,网银转账\n"
    "2026年01月08日,T2026010800004,-1000.00,-,15265.00,王五,6228481234567890,退费,FEE-2026-000099\n"
    '合计,,"1,035.00","16,300.00",,,,,\n'
    "\n"
    "打印时间：2026-01-09 08:00:00\n"
)


def test_generic_corporate_export():
    parsed = parse_tabular(CORPORATE.encode("gbk"))
    assert parsed.mapping == "cn_corporate"
    assert parsed.sections[0].account == "11001234567890123456"
    lines = parsed.lines
    assert [line.amount for line in lines] == [
        Decimal("12800.00"),
        Decimal("-35.00"),
        Decimal("3500.00"),
        Decimal("-1000.00"),
    ]
    assert [line.booked_on.day for line in lines] == [5, 6, 7, 8]
    assert lines[0].reference == "T2026010500001"
    assert lines[0].narrative == "转账 | 学费 FEE-2026-000123"
    assert lines[2].narrative == "网银转账"  # 摘要 repeated in 用途 kept once
    assert lines[0].counterparty_account == "6222021234567890"
    assert total(parsed) == Decimal("15265.00")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gbk"])
def test_every_encoding_gives_the_same_lines(encoding):
    reference = parse_tabular(CORPORATE.encode("utf-8")).lines
    data = CORPORATE.encode(encoding)
    assert parse_tabular(data).lines == reference
    text, _name = decode_bytes(data)
    assert text == CORPORATE


def test_gbk_is_read_as_gb18030():
    assert decode_bytes("交易日期,摘要\n".encode("gbk")) == ("交易日期,摘要\n", "gb18030")


def _corporate_with(line_no: int, row: str) -> bytes:
    lines = CORPORATE.splitlines()
    lines[line_no - 1] = row
    return "\n".join(lines).encode("utf-8")


def test_bad_date_names_line_column_and_value():
    data = _corporate_with(4, "2026-01-05,T1,,100.00,100.00,张三,622202,转账,学费")
    data += "\n2026-02-30,T9,,1.00,1.00,张三,622202,转账,学费\n".encode()
    rows = data.decode().splitlines()
    rows.insert(6, rows.pop())  # the bad row becomes line 7
    with pytest.raises(StatementParseError) as error:
        parse_tabular("\n".join(rows).encode())
    assert error.value.where == "line 7"
    assert "交易日期" in error.value.message
    assert "2026-02-30" in error.value.message


def test_bad_amount_names_line_column_and_value():
    data = _corporate_with(5, "2026-01-06,T2,12.3.4,,1.00,某某银行,,手续费,")
    with pytest.raises(StatementParseError) as error:
        parse_tabular(data)
    assert error.value.where == "line 5"
    assert "借方发生额" in error.value.message
    assert "12.3.4" in error.value.message
    assert str(error.value).startswith("line 5: ")


def test_header_not_found():
    with pytest.raises(StatementParseError) as error:
        parse_tabular("日期,金额\n2026-01-05,1.00\n".encode(), mapping=BUILTIN_MAPPINGS["icbc"])
    assert error.value.where == "lines 1-2"
    assert "记账金额(收入)" in error.value.message
    with pytest.raises(StatementParseError):
        parse_tabular(b"just,some\ntext,here\n")


def test_unreadable_xlsx():
    with pytest.raises(StatementParseError) as error:
        parse_tabular(b"PK\x03\x04 this is not a workbook", filename="statement.xlsx")
    assert "xlsx" in error.value.message
    with pytest.raises(StatementParseError):
        parse_tabular(b"\xd0\xcf\x11\xe0 broken", filename="statement.xls")


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "明细"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_native_cells_and_bad_date_row():
    header = ["交易日期", "借方发生额", "贷方发生额", "对方户名", "摘要"]
    rows = [["某某公司账户明细"], [], header]
    rows.append([dt.datetime(2026, 1, 5, 9, 30), None, 0.1 + 0.2, "张三", "学费"])
    rows.append(["2026-01-06", 1234.5, None, "李四", "退费"])
    rows.append([20260107, None, 1000, "王五", "学费"])
    rows.append(["not a date", None, 1, "赵六", "学费"])
    data = _workbook(rows[:-1])
    parsed = parse_tabular(data)
    assert parsed.format == "xlsx"
    assert [line.amount for line in parsed.lines] == [
        Decimal("0.30"),
        Decimal("-1234.50"),
        Decimal("1000.00"),
    ]
    assert parsed.lines[0].booked_on == dt.date(2026, 1, 5)
    assert parsed.lines[2].booked_on == dt.date(2026, 1, 7)
    assert parsed.lines[0].path == "row 4 of sheet 明细"
    with pytest.raises(StatementParseError) as error:
        parse_tabular(_workbook(rows))
    assert error.value.where == "row 7 of sheet 明细"
    assert "交易日期" in error.value.message and "not a date" in error.value.message


def test_custom_mapping_from_json():
    saved = json.dumps(
        {
            "name": "rural-bank",
            "label": "某农商银行",
            "booked_on": "日期",
            "amount": "发生额",
            "direction": "收/付",
            "credit_words": ["收"],
            "debit_words": ["付"],
            "reference": ["凭证号"],
            "narrative": ["用途", "备注"],
            "date_formats": ["%d/%m/%Y"],
        }
    )
    mapping = ColumnMapping.from_dict(json.loads(saved))
    data = (
        "日期,收/付,发生额,凭证号,用途,备注\n"
        "05/01/2026,收,800.00,V1,学费,\n"
        "06/01/2026,付,20.00,V2,,手续费\n"
    )
    parsed = parse_tabular(data.encode(), mapping=mapping)
    assert parsed.mapping == "rural-bank"
    assert [(line.booked_on, line.amount) for line in parsed.lines] == [
        (dt.date(2026, 1, 5), Decimal("800.00")),
        (dt.date(2026, 1, 6), Decimal("-20.00")),
    ]
    assert parsed.lines[1].narrative == "手续费"


@pytest.mark.parametrize("name", sorted(BUILTIN_MAPPINGS))
def test_mapping_round_trips_through_json(name):
    mapping = BUILTIN_MAPPINGS[name]
    assert ColumnMapping.from_dict(json.loads(json.dumps(mapping.to_dict()))) == mapping


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "x"}, "booked_on"),
        ({"name": "x", "booked_on": "日期"}, "amount"),
        ({"name": "x", "booked_on": "日期", "credit": "收入"}, "debit"),
        ({"name": "x", "booked_on": "日期", "amount": "金额", "direction": "借贷"}, "credit_words"),
        ({"name": "x", "booked_on": "日期", "amount": "金额", "narative": "摘要"}, "narative"),
        ({"name": "Bad Name", "booked_on": "日期", "amount": "金额"}, "Bad Name"),
        ({"name": "x", "booked_on": 5, "amount": "金额"}, "booked_on"),
        ({"booked_on": "日期", "amount": "金额"}, "name"),
    ],
)
def test_incomplete_mapping_is_refused(data, expected):
    with pytest.raises(MappingError) as error:
        ColumnMapping.from_dict(data)
    assert expected in str(error.value)
    assert error.value.messages
