"""Alipay and WeChat Pay merchant bills (and the apps' personal exports).

A merchant bill is the gateway's own record of every payment and refund on our
merchant account; its 商户订单号 is the out_trade_no our checkout sent, which makes
it the idempotent key for matching. Amounts are signed from our side: payments are
positive, refunds negative. ``fee`` is positive for a fee we paid and negative for
a fee the gateway gave back on a refund, whatever sign convention the bill uses.

Formats: tests/samples/alipay/MERCHANT_BILL_FORMAT.md and
tests/samples/wechatpay/MERCHANT_BILL_FORMAT.md. Columns are always found by header
name, because both gateways serve older merchants an earlier column set.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from decimal import Decimal

from django.utils.translation import gettext as _

from .base import LineKind, ParsedFile, ParsedLine, ParsedSection, StatementParseError
from .encoding import decode_bytes, decode_prefix
from .gateway_personal import ALIPAY_PERSONAL, not_a_bill, parse_personal
from .gateway_personal import period_of as _period_of
from .gateway_wechat import parse_wechat_bill
from .grid import XLSX_MAGIC, Grid, Table, bill_rows, csv_grid, detect_kind, find_header, read_grids
from .tabular import join_narrative

__all__ = [
    "looks_like_alipay_bill",
    "looks_like_wechat_bill",
    "parse_alipay_bill",
    "parse_wechat_bill",
]

_ZERO = Decimal("0.00")
_ALIPAY_ACCOUNT_RE = re.compile(r"#?账号[:：]\s*\[([^\]]+)\]")

# Alipay 业务明细 (bill_type=trade)
_ALIPAY_TRADE = ("支付宝交易号", "商户订单号", "业务类型", "订单金额(元)")
# Alipay 账务明细 (bill_type=signcustomer)
_ALIPAY_ACCOUNT = ("账务流水号", "业务流水号", "收入金额(+元)", "支出金额(-元)")
_ALIPAY_SUMMARY = ("交易订单总笔数", "退款订单总笔数")


def _groups(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [(name,) for name in names]


# -- Alipay -----------------------------------------------------------------------


def _alipay_trade_lines(table: Table) -> list[ParsedLine]:
    lines = []
    for cell in bill_rows(table, "完成时间", "创建时间"):
        business = cell.text("业务类型")
        amount = cell.amount("订单金额(元)")
        fee = cell.amount("服务费(元)", required=False) or _ZERO
        gateway_no = cell.text("支付宝交易号")
        reference = gateway_no
        if "退款" in business:
            kind, amount, fee = LineKind.REFUND, -abs(amount), -abs(fee)
            # a trade can be refunded in several parts; the request no tells them apart
            reference = cell.text("退款批次号/请求号") or gateway_no
        elif "交易" in business:
            kind, amount, fee = LineKind.PAYMENT, abs(amount), abs(fee)
        else:
            kind = LineKind.OTHER
        lines.append(
            cell.line(
                booked_on=cell.date("完成时间", "创建时间"),
                amount=amount,
                currency="CNY",
                kind=kind,
                reference=reference,
                narrative=join_narrative([cell.text("商品名称"), cell.text("备注")]),
                counterparty_account=cell.text("对方账户"),
                out_trade_no=cell.text("商户订单号"),
                gateway_trade_no=gateway_no,
                fee=fee,
            )
        )
    return lines


def _alipay_account_kind(business: str) -> LineKind:
    if "退款" in business:
        return LineKind.REFUND
    if any(word in business for word in ("收费", "服务费", "手续费")):
        return LineKind.FEE
    if "提现" in business:
        return LineKind.PAYOUT
    if any(word in business for word in ("在线支付", "交易", "收款")):
        return LineKind.PAYMENT
    return LineKind.OTHER


def _alipay_account_lines(table: Table) -> list[ParsedLine]:
    lines = []
    for cell in bill_rows(table, "发生时间"):
        income = cell.amount("收入金额(+元)", required=False)
        expense = cell.amount("支出金额(-元)", required=False)
        if income is None and expense is None:
            cell.amount("收入金额(+元)")  # raises: the row has no amount at all
        lines.append(
            cell.line(
                booked_on=cell.date("发生时间"),
                amount=(income or _ZERO) - abs(expense or _ZERO),
                currency="CNY",
                kind=_alipay_account_kind(cell.text("业务类型")),
                reference=cell.text("账务流水号"),
                narrative=join_narrative([cell.text("商品名称"), cell.text("备注")]),
                counterparty_account=cell.text("对方账号"),
                out_trade_no=cell.text("商户订单号"),
                gateway_trade_no=cell.text("业务流水号"),
            )
        )
    return lines


def _member_name(info: zipfile.ZipInfo) -> str:
    """Alipay's archives store GBK member names without the UTF-8 flag, which
    zipfile then reads as CP437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _alipay_members(data: bytes) -> list[bytes]:
    """The API delivers a .csv.zip holding the detail file and a (汇总) summary
    file, with GBK member names that zipfile reads as CP437."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise StatementParseError(
            _("The file cannot be opened as a zip archive: %(error)s.") % {"error": exc}
        ) from exc
    members = []
    with archive:
        for info in archive.infolist():
            name = _member_name(info)
            if name.lower().endswith(".csv") and "汇总" not in name:
                members.append(archive.read(info))
    return members


def _alipay_grid(grid: Grid) -> ParsedFile:
    for names, read, mapping in (
        (_ALIPAY_TRADE, _alipay_trade_lines, "alipay_trade"),
        (_ALIPAY_ACCOUNT, _alipay_account_lines, "alipay_signcustomer"),
    ):
        index = find_header(grid, _groups(names))
        if index is None:
            continue
        table = Table(grid, index)
        preamble = "\n".join(",".join(map(str, cells)) for cells in table.preamble)
        start, end = _period_of(preamble)
        account = _ALIPAY_ACCOUNT_RE.search(preamble)
        section = ParsedSection(
            account=account[1].strip() if account else "",
            currency="CNY",
            period_start=start,
            period_end=end,
            lines=tuple(read(table)),
        )
        return ParsedFile(format="alipay", sections=(section,), mapping=mapping)
    if find_header(grid, _groups(_ALIPAY_SUMMARY)) is not None:
        raise StatementParseError(
            _(
                "This is the Alipay summary file (业务明细(汇总)); upload the detail file "
                "(业务明细) from the same archive instead."
            )
        )
    personal = parse_personal([grid], ALIPAY_PERSONAL)
    if personal is None:
        raise not_a_bill(_("Alipay"), grid)
    return personal


def parse_alipay_bill(data: bytes) -> ParsedFile:
    """An Alipay 业务明细 or 账务明细 CSV (or the downloaded .csv.zip), or the app's
    personal export."""
    if data.startswith(XLSX_MAGIC):
        members = _alipay_members(data)
        if not members:
            raise StatementParseError(_("The archive holds no Alipay detail CSV file."))
        parsed = [_alipay_grid(csv_grid(decode_bytes(member)[0])) for member in members]
        sections = tuple(section for bill in parsed for section in bill.sections)
        return ParsedFile(format="alipay", sections=sections, mapping=parsed[0].mapping)
    kind = detect_kind(data)
    grids = read_grids(data, kind)
    if kind != "csv":
        personal = parse_personal(grids, ALIPAY_PERSONAL)
        if personal is None:
            raise not_a_bill(_("Alipay"), grids[0] if grids else Grid(kind))
        return personal
    return _alipay_grid(grids[0])


# -- sniffing ---------------------------------------------------------------------


def looks_like_alipay_bill(data: bytes) -> bool:
    if data.startswith(XLSX_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [_member_name(info) for info in archive.infolist()]
        except zipfile.BadZipFile:
            return False
        return any("业务明细" in name or "账务明细" in name for name in names)
    text = decode_prefix(data)
    return (
        "支付宝交易号" in text
        or "账务流水号" in text
        or ("商家订单号" in text and ("交易订单号" in text or "支付宝" in text))
    )


def looks_like_wechat_bill(data: bytes) -> bool:
    if data.startswith(b"\x1f\x8b"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                data = stream.read(16384)
        except (OSError, EOFError):
            return False
    if data.startswith(XLSX_MAGIC):
        try:
            with (
                zipfile.ZipFile(io.BytesIO(data)) as archive,
                archive.open("xl/sharedStrings.xml") as stream,
            ):
                text = stream.read(1 << 20).decode("utf-8", "ignore")
        except (zipfile.BadZipFile, KeyError, OSError):
            return False
        return "微信支付" in text and "商户单号" in text
    text = decode_prefix(data)
    return (
        ("微信订单号" in text and "商户订单号" in text)
        or ("微信支付业务单号" in text and "资金流水单号" in text)
        or ("交易单号" in text and "商户单号" in text and "收/支" in text)
    )
