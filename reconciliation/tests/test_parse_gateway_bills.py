"""Alipay and WeChat Pay bills.

No real merchant bill could be published, so the merchant fixtures are built here,
following tests/samples/alipay/MERCHANT_BILL_FORMAT.md and
tests/samples/wechatpay/MERCHANT_BILL_FORMAT.md to the letter (headers, ``#``
framing, trailing TABs and GBK for Alipay; back-ticks, summary block and UTF-8 for
WeChat). The same bytes are kept under reconciliation/tests/samples/ so they can
be opened and uploaded by hand; ``test_fixture_files_are_current`` keeps the two
in step. The personal (consumer) exports are real anonymised files, see
tests/samples/SOURCES.md.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from reconciliation.parsers.base import LineKind, StatementParseError
from reconciliation.parsers.gateway_bills import (
    looks_like_alipay_bill,
    looks_like_wechat_bill,
    parse_alipay_bill,
    parse_wechat_bill,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "samples"
ALIPAY_PERSONAL = ROOT / "tests/samples/alipay/deg_example-alipay-records_personal.csv"
WECHAT_PERSONAL_CSV = ROOT / "tests/samples/wechatpay/deg_example-wechat-records_personal.csv"
WECHAT_PERSONAL_XLSX = ROOT / "tests/samples/wechatpay/deg_example-wechat-records_personal.xlsx"

_BAR = "#-----------------------------------------"
_BAR_END = "----------------------------------------"


def _alipay(title: str, header: str, rows: list[list[str]], footer: list[str]) -> bytes:
    """Alipay ends every data field with a TAB and writes GBK with CRLF."""
    lines = [
        f"#支付宝{title}查询",
        "#账号：[20881234567890120156]",
        "#起始日期：[2026年01月05日 00:00:00]   终止日期：[2026年01月06日 00:00:00]",
        f"{_BAR}{title}列表{_BAR_END}",
        header,
        *(",".join(f"{cell}\t" for cell in row) for row in rows),
        f"{_BAR}{title}列表结束------------------------------------",
        *footer,
        "#导出时间：[2026年01月06日 10:21:33]",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


ALIPAY_TRADE_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
    "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def _trade_row(trade_no, order_no, kind, goods, created, done, buyer, amount, refund_no, fee, note):
    zero = "0.00"
    return [trade_no, order_no, kind, goods, created, done, "", "", "", "", buyer,
            amount, amount, zero, zero, zero, zero, zero, "", zero, zero, refund_no, fee,
            zero, note]  # fmt: skip


def alipay_trade_bill() -> bytes:
    rows = [
        _trade_row("2026010522001412341234567890", "FEE-2026-000123", "交易", "2026年春季学费",
                   "2026-01-05 09:12:01", "2026-01-05 09:12:15", "138****5678", "12800.00",
                   "", "-76.80", "合同C-0042"),
        _trade_row("2026010522001498769876543210", "FEE-2026-000124", "交易", "2026年春季学费",
                   "2026-01-05 11:40:37", "2026-01-05 11:40:52", "zha***@163.com", "3500.00",
                   "", "-21.00", ""),
        _trade_row("2026010522001412341234567890", "FEE-2026-000123", "退款", "2026年春季学费",
                   "2026-01-05 16:20:03", "2026-01-05 16:20:05", "138****5678", "-1000.00",
                   "RF-2026-000123-1", "6.00", "部分退款"),
        _trade_row("2026010522001455554444333322", "FEE-2026-000125", "交易", "校服及教材费",
                   "2026-01-05 20:03:44", "2026-01-05 20:03:59", "159****0001", "980.50",
                   "", "-5.88", ""),
    ]  # fmt: skip
    footer = [
        "#交易合计：3笔，商家实收共：17280.50元，商家优惠共：0.00元",
        "#退款合计：1笔，商家实收退款共：-1000.00元，商家优惠退款共：0.00元",
    ]
    return _alipay("业务明细", ALIPAY_TRADE_HEADER, rows, footer)


ALIPAY_ACCOUNT_HEADER = (
    "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,"
    "支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注"
)


def alipay_account_bill() -> bytes:
    trade = "2026010522001412341234567890"
    rows = [
        ["20260105110070001506120012345671", trade, "FEE-2026-000123", "2026年春季学费",
         "2026-01-05 09:12:15", "138****5678", "+12800.00", "", "12800.00", "支付宝", "在线支付",
         ""],
        ["20260105110070001506120012345672", trade, "FEE-2026-000123", f"服务费[{trade}]",
         "2026-01-05 09:12:15", "", "", "-76.80", "12723.20", "支付宝", "收费", ""],
        ["20260105110070001506120012345673", trade, "FEE-2026-000123", "2026年春季学费",
         "2026-01-05 16:20:05", "138****5678", "", "-1000.00", "11723.20", "支付宝", "交易退款",
         "部分退款"],
        ["20260105110070001506120012345674", trade, "FEE-2026-000123", f"退服务费[{trade}]",
         "2026-01-05 16:20:05", "", "+6.00", "", "11729.20", "支付宝", "收费", ""],
        ["20260105110070001506120012345675", "20260105200040011100470001234567", "", "提现",
         "2026-01-05 23:00:01", "6222****7890", "", "-11000.00", "729.20", "支付宝", "提现",
         "自动提现"],
    ]  # fmt: skip
    footer = ["#收入合计：2笔，共12806.00元", "#支出合计：3笔，共-12076.80元"]
    return _alipay("账务明细", ALIPAY_ACCOUNT_HEADER, rows, footer)


WECHAT_ALL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
WECHAT_SUCCESS_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,"
    "费率备注"
)
WECHAT_REFUND_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,"
    "商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,"
    "订单金额,申请退款金额,费率备注"
)
WECHAT_TRADE_SUMMARY = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)
APPID, MCHID, OPENID = "wx2421b1c4370ec43b", "1900000109", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
PAY_1 = ("2026-01-05 10:02:11", "4200002612202601051234567890", "FEE-2026-000200")
PAY_2 = ("2026-01-05 13:45:09", "4200002612202601059876543210", "FEE-2026-000201")


def _wechat(header: str, rows: list[list[str]], summary_header: str, summary: list[str]) -> bytes:
    """WeChat prefixes every value with a back-tick and does not quote; the
    downloaded file starts with a UTF-8 BOM."""
    lines = [header, *(",".join(f"`{cell}" for cell in row) for row in rows)]
    lines += [summary_header, ",".join(f"`{cell}" for cell in summary)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def wechat_all_bill() -> bytes:
    common = [APPID, MCHID, "0", ""]
    rows = [
        [PAY_1[0], *common, PAY_1[1], PAY_1[2], OPENID, "JSAPI", "SUCCESS", "CMB_DEBIT", "CNY",
         "4200.00", "0.00", "0", "0", "0.00", "0.00", "", "", "2026春季学费", "contract=C-0042",
         "25.20", "0.60%", "4200.00", "0.00", ""],
        [PAY_2[0], *common, PAY_2[1], PAY_2[2], OPENID, "NATIVE", "SUCCESS", "OTHERS", "CNY",
         "1350.00", "0.00", "0", "0", "0.00", "0.00", "", "", "校服,教材费", "contract=C-0042",
         "8.10", "0.60%", "1350.00", "0.00", ""],
        ["2026-01-05 15:30:45", *common, PAY_1[1], PAY_1[2], OPENID, "JSAPI", "REFUND",
         "CMB_DEBIT", "CNY", "0.00", "0.00", "50300000012026010512345678901", "RF-2026-000200-1",
         "500.00", "0.00", "ORIGINAL", "SUCCESS", "2026春季学费", "contract=C-0042", "-3.00",
         "0.60%", "0.00", "500.00", ""],
    ]  # fmt: skip
    summary = ["3", "5550.00", "500.00", "0.00", "30.30", "5550.00", "500.00"]
    return _wechat(WECHAT_ALL_HEADER, rows, WECHAT_TRADE_SUMMARY, summary)


def wechat_success_bill() -> bytes:
    common = [APPID, MCHID, "0", ""]
    rows = [
        [PAY_1[0], *common, PAY_1[1], PAY_1[2], OPENID, "JSAPI", "SUCCESS", "CMB_DEBIT", "CNY",
         "4200.00", "0.00", "2026春季学费", "contract=C-0042", "25.20", "0.60%", "4200.00", ""],
        [PAY_2[0], *common, PAY_2[1], PAY_2[2], OPENID, "NATIVE", "SUCCESS", "OTHERS", "CNY",
         "1350.00", "0.00", "校服,教材费", "contract=C-0042", "8.10", "0.60%", "1350.00", ""],
    ]  # fmt: skip
    return _wechat(
        WECHAT_SUCCESS_HEADER,
        rows,
        "总交易单数,应结订单总金额,手续费总金额,订单总金额",
        ["2", "5550.00", "33.30", "5550.00"],
    )


def wechat_refund_bill() -> bytes:
    row = [
        "2026-01-05 15:30:45", APPID, MCHID, "0", "", PAY_1[1], PAY_1[2], OPENID, "JSAPI",
        "REFUND", "CMB_DEBIT", "CNY", "0.00", "0.00", "2026-01-05 15:30:45",
        "2026-01-06 09:01:12", "50300000012026010512345678901", "RF-2026-000200-1", "500.00",
        "0.00", "ORIGINAL", "SUCCESS", "2026春季学费", "contract=C-0042", "-3.00", "0.60%",
        "0.00", "500.00", "",
    ]  # fmt: skip
    summary = ["1", "0.00", "500.00", "0.00", "-3.00", "0.00", "500.00"]
    return _wechat(WECHAT_REFUND_HEADER, [row], WECHAT_TRADE_SUMMARY, summary)


def wechat_fundflow_bill() -> bytes:
    rows = [
        ["2026-01-05 10:02:11", PAY_1[1], "1900009231202601051234500001", "交易", "交易", "收入",
         "4200.00", "4200.00", "system", "", ""],
        ["2026-01-05 10:02:11", PAY_1[1], "1900009231202601051234500002", "扣除交易手续费",
         "扣除交易手续费", "支出", "25.20", "4174.80", "system", "", ""],
        # the sample row of the official documentation, verbatim
        ["2018-02-01 04:21:23", "50000305742018020103387128253", "1900009231201802015884652186",
         "退款", "退款", "支出", "0.02", "0.17", "system", "缺货",
         "REF4200000068201801293084726067"],
    ]  # fmt: skip
    return _wechat(
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),"
        "账户结余(元),资金变更提交申请人,备注,业务凭证号",
        rows,
        "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额",
        ["3", "1", "4200.00", "2", "25.22"],
    )


BUILDERS = {
    "alipay_trade_20260105.csv": alipay_trade_bill,
    "alipay_signcustomer_20260105.csv": alipay_account_bill,
    "wechat_tradebill_ALL_20260105.csv": wechat_all_bill,
    "wechat_tradebill_SUCCESS_20260105.csv": wechat_success_bill,
    "wechat_tradebill_REFUND_20260105.csv": wechat_refund_bill,
    "wechat_fundflowbill_20260105.csv": wechat_fundflow_bill,
}


def total(parsed, field: str = "amount") -> Decimal:
    return sum((getattr(line, field) for line in parsed.lines), Decimal(0))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_fixture_files_are_current(name):
    assert (FIXTURES / name).read_bytes() == BUILDERS[name]()


def test_alipay_trade_bill():
    data = alipay_trade_bill()
    assert looks_like_alipay_bill(data) and not looks_like_wechat_bill(data)
    parsed = parse_alipay_bill(data)
    assert (parsed.format, parsed.mapping) == ("alipay", "alipay_trade")
    section = parsed.sections[0]
    assert section.account == "20881234567890120156"
    assert (section.period_start, section.period_end) == (dt.date(2026, 1, 5), dt.date(2026, 1, 6))
    lines = parsed.lines
    assert len(lines) == 4  # the # framing, 合计 and 导出时间 lines are not movements
    first, refund = lines[0], lines[2]
    assert first.line_no == 6
    assert (first.kind, first.amount, first.fee) == (
        LineKind.PAYMENT,
        Decimal("12800.00"),
        Decimal("76.80"),
    )
    assert (first.out_trade_no, first.gateway_trade_no) == (
        "FEE-2026-000123",
        "2026010522001412341234567890",
    )
    assert first.booked_on == dt.date(2026, 1, 5)
    assert first.narrative == "2026年春季学费 | 合同C-0042"
    assert first.counterparty_account == "138****5678"
    assert first.currency == "CNY"
    assert first.raw["商家实收（元）"] == "12800.00"  # TAB trimmed
    assert (refund.kind, refund.amount, refund.fee) == (
        LineKind.REFUND,
        Decimal("-1000.00"),
        Decimal("-6.00"),
    )
    assert refund.out_trade_no == "FEE-2026-000123"
    assert refund.reference == "RF-2026-000123-1"
    assert lines[-1].amount == Decimal("980.50")
    assert total(parsed) == Decimal("16280.50")
    assert total(parsed, "fee") == Decimal("97.68")


def test_alipay_signcustomer_bill():
    parsed = parse_alipay_bill(alipay_account_bill())
    assert parsed.mapping == "alipay_signcustomer"
    lines = parsed.lines
    assert [line.kind for line in lines] == [
        LineKind.PAYMENT,
        LineKind.FEE,
        LineKind.REFUND,
        LineKind.FEE,
        LineKind.PAYOUT,
    ]
    assert [line.amount for line in lines] == [
        Decimal("12800.00"),
        Decimal("-76.80"),
        Decimal("-1000.00"),
        Decimal("6.00"),
        Decimal("-11000.00"),
    ]
    assert lines[0].reference == "20260105110070001506120012345671"
    assert lines[0].gateway_trade_no == "2026010522001412341234567890"
    assert lines[0].out_trade_no == "FEE-2026-000123"
    assert lines[-1].narrative == "提现 | 自动提现"
    assert total(parsed) == Decimal("729.20")  # the closing 账户余额


def test_alipay_zip_delivery_skips_the_summary_file():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("20881234567890120156_20260105_业务明细.csv", alipay_trade_bill())
        archive.writestr("20881234567890120156_20260105_业务明细(汇总).csv", b"#\r\n")
    data = buffer.getvalue()
    assert looks_like_alipay_bill(data)
    assert len(parse_alipay_bill(data).lines) == 4


def test_alipay_personal_export():
    data = ALIPAY_PERSONAL.read_bytes()
    assert looks_like_alipay_bill(data) and not looks_like_wechat_bill(data)
    parsed = parse_alipay_bill(data)
    assert (parsed.format, parsed.mapping) == ("alipay", "alipay_personal")
    assert parsed.sections[0].account == "xx@gmail.com"
    lines = parsed.lines
    assert len(lines) == 10
    first = lines[0]
    assert (first.line_no, first.booked_on, first.amount) == (
        26,
        dt.date(2023, 2, 12),
        Decimal("-49.74"),
    )
    assert first.gateway_trade_no == "202302xxxxxx0011000103xxxxxx"  # TAB after the id trimmed
    assert first.out_trade_no == "20230xxxxxxx014741014xxxxxx"
    assert first.narrative == "亲情卡"
    refund = lines[2]
    assert (refund.kind, refund.amount) == (LineKind.REFUND, Decimal("16.03"))  # 不计收支
    assert lines[4].amount == Decimal("222228.50")
    assert lines[7].kind == LineKind.OTHER  # 交易关闭: refunded by the row above it
    assert (lines[-1].booked_on, lines[-1].amount) == (dt.date(2023, 7, 10), Decimal("-82.00"))
    assert total(parsed) == Decimal("222264.23")


def test_wechat_all_bill():
    data = wechat_all_bill()
    assert looks_like_wechat_bill(data) and not looks_like_alipay_bill(data)
    parsed = parse_wechat_bill(data)
    assert (parsed.format, parsed.mapping) == ("wechat", "wechat_all")
    assert parsed.sections[0].account == MCHID
    lines = parsed.lines
    assert len(lines) == 3  # summary header and summary row are not movements
    first, second, refund = lines
    assert (first.line_no, first.kind, first.amount, first.fee) == (
        2, LineKind.PAYMENT, Decimal("4200.00"), Decimal("25.20"),
    )  # fmt: skip
    assert (first.out_trade_no, first.gateway_trade_no) == (PAY_1[2], PAY_1[1])
    assert first.narrative == "2026春季学费 | contract=C-0042"
    assert first.counterparty_account == OPENID
    assert first.raw["交易状态"] == "SUCCESS"  # back-tick removed
    assert second.narrative.startswith("校服,教材费")  # the comma stays inside the value
    assert (refund.kind, refund.amount, refund.fee) == (
        LineKind.REFUND,
        Decimal("-500.00"),
        Decimal("-3.00"),
    )
    assert refund.out_trade_no == PAY_1[2]
    assert refund.reference == "50300000012026010512345678901"
    assert refund.raw["商户退款单号"] == "RF-2026-000200-1"
    assert total(parsed) == Decimal("5050.00")
    assert total(parsed, "fee") == Decimal("30.30")  # equals 手续费总金额


def test_wechat_success_and_refund_bills():
    success = parse_wechat_bill(wechat_success_bill())
    assert success.mapping == "wechat_success"
    assert [line.amount for line in success.lines] == [Decimal("4200.00"), Decimal("1350.00")]
    assert {line.kind for line in success.lines} == {LineKind.PAYMENT}
    refund = parse_wechat_bill(wechat_refund_bill())
    assert refund.mapping == "wechat_refund"
    (line,) = refund.lines
    assert (line.kind, line.amount, line.fee) == (
        LineKind.REFUND,
        Decimal("-500.00"),
        Decimal("-3.00"),
    )
    assert line.booked_on == dt.date(2026, 1, 6)  # 退款成功时间, not the request day


def test_wechat_fundflow_bill_and_gzip():
    parsed = parse_wechat_bill(gzip.compress(wechat_fundflow_bill()))
    assert parsed.mapping == "wechat_fundflow"
    assert [(line.kind, line.amount) for line in parsed.lines] == [
        (LineKind.PAYMENT, Decimal("4200.00")),
        (LineKind.FEE, Decimal("-25.20")),
        (LineKind.REFUND, Decimal("-0.02")),
    ]
    assert parsed.lines[2].reference == "1900009231201802015884652186"
    assert parsed.lines[2].booked_on == dt.date(2018, 2, 1)


@pytest.mark.parametrize("path", [WECHAT_PERSONAL_CSV, WECHAT_PERSONAL_XLSX])
def test_wechat_personal_export(path):
    data = path.read_bytes()
    assert looks_like_wechat_bill(data) and not looks_like_alipay_bill(data)
    parsed = parse_wechat_bill(data)
    assert (parsed.format, parsed.mapping) == ("wechat", "wechat_personal")
    section = parsed.sections[0]
    assert (section.period_start, section.period_end) == (dt.date(2019, 8, 1), dt.date(2019, 9, 30))
    lines = parsed.lines
    assert len(lines) == 27
    first = lines[0]
    assert first.line_no == (18 if path.suffix == ".csv" else 19)
    assert (first.booked_on, first.amount, first.kind) == (
        dt.date(2019, 9, 26),
        Decimal("-28.16"),
        LineKind.TRANSFER,
    )
    assert first.counterparty_name == "云膳过桥米线(传奇广场店)"
    assert (first.gateway_trade_no, first.out_trade_no) == ("3985734", "129847129")
    assert lines[1].amount == Decimal("0.35")  # 收入
    assert lines[4].out_trade_no == ""  # "/" is no value
    withdrawal = lines[6]
    assert (withdrawal.kind, withdrawal.amount, withdrawal.fee) == (
        LineKind.OTHER,
        Decimal("100.10"),
        Decimal("0.10"),
    )
    assert lines[-1].amount == Decimal("-0.01")
    assert lines[-3].amount == Decimal("-50.00")  # "¥50.0"
    assert total(parsed) == Decimal("23224.85")
    assert sum(line.amount for line in lines if line.kind == LineKind.TRANSFER) == Decimal(
        "-2876.04"
    )


def test_wechat_bad_amount_names_line_and_column():
    text = wechat_all_bill().decode("utf-8").replace("`1350.00", "`13,50.0x", 1)
    with pytest.raises(StatementParseError) as error:
        parse_wechat_bill(text.encode("utf-8"))
    assert error.value.where == "line 3"
    assert "应结订单金额" in error.value.message and "13,50.0x" in error.value.message


def test_alipay_bad_date_names_line_and_column():
    data = alipay_trade_bill().replace(b"2026-01-05 11:40:52", b"2026-01-32 11:40:52")
    with pytest.raises(StatementParseError) as error:
        parse_alipay_bill(data)
    assert error.value.where == "line 7"
    assert "完成时间" in error.value.message and "2026-01-32" in error.value.message


def test_not_a_bill_and_summary_file():
    with pytest.raises(StatementParseError):
        parse_wechat_bill(b"a,b,c\n1,2,3\n")
    with pytest.raises(StatementParseError):
        parse_alipay_bill("交易日期,金额\n2026-01-05,1.00\n".encode("gbk"))
    summary = (
        "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）\r\n"
    )
    with pytest.raises(StatementParseError) as error:
        parse_alipay_bill(summary.encode("gbk"))
    assert "汇总" in error.value.message
