"""WeChat Pay merchant bills: 交易账单 (bill_type ALL, SUCCESS, REFUND) and 资金账单.

Layout: tests/samples/wechatpay/MERCHANT_BILL_FORMAT.md. The detail header, the
rows, then a summary header and one summary row; every value starts with a
back-tick so that Excel keeps long order numbers as text. Refund rows are
negative, and their 手续费 (written negative, the fee handed back) becomes a
negative ``fee``. A payment cancelled after it succeeded (REVOKED) is a REVERSAL.
"""

from __future__ import annotations

import gzip
import re
from decimal import Decimal

from django.utils.translation import gettext as _

from .base import LineKind, ParsedFile, ParsedLine, ParsedSection, StatementParseError
from .cells import normalise_header, parse_currency
from .encoding import decode_bytes
from .gateway_personal import WECHAT_PERSONAL, not_a_bill, parse_personal
from .grid import Grid, Table, bill_rows, detect_kind, find_header, read_grids
from .tabular import join_narrative

__all__ = ["parse_wechat_bill"]

_ZERO = Decimal("0.00")

# WeChat Pay 交易账单 (ALL / SUCCESS / REFUND) and 资金账单
_WECHAT_TRADE = ("交易时间", "微信订单号", "商户订单号", "交易状态")
_WECHAT_FUNDFLOW = ("记账时间", "微信支付业务单号", "资金流水单号", "收支类型")
_WECHAT_SUMMARY_FIRST = ("总交易单数", "资金流水总笔数")


def _groups(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [(name,) for name in names]


def _wechat_grid(text: str) -> Grid:
    """WeChat writes every detail value with a leading back-tick and no quoting;
    splitting on ",`" keeps a comma inside a value (商品名称, 商户数据包) intact.
    The summary block at the end is left out."""
    grid = Grid("csv")
    for number, line in enumerate(re.split(r"\r\n|\n|\r", text), start=1):
        if not line.strip():
            continue
        if line.startswith("`"):
            cells = [cell.strip() for cell in line[1:].split(",`")]
        else:
            cells = [cell.strip().lstrip("`") for cell in line.split(",")]
        if normalise_header(cells[0]) in _WECHAT_SUMMARY_FIRST and grid.rows:
            break
        grid.rows.append((number, cells))
    return grid


def _wechat_trade_lines(table: Table) -> list[ParsedLine]:
    refund_bill = table.column(("退款申请时间",)) is not None
    lines = []
    for cell in bill_rows(table, "交易时间"):
        status = cell.text("交易状态").upper()
        gateway_no = cell.text("微信订单号")
        fee = cell.amount("手续费", required=False) or _ZERO
        if refund_bill or status == "REFUND":
            refund = cell.amount("退款金额", "申请退款金额")
            kind, amount, fee = LineKind.REFUND, -abs(refund), -abs(fee)
            booked_on = cell.date("退款成功时间", "交易时间")
            reference = cell.text("微信退款单号") or gateway_no
        else:
            amount = abs(cell.amount("应结订单金额", "总金额", "订单金额"))
            booked_on = cell.date("交易时间")
            reference = gateway_no
            if status == "REVOKED":  # paid, then cancelled: the money went back
                kind, amount, fee = LineKind.REVERSAL, -amount, -abs(fee)
            elif status == "SUCCESS":
                kind, fee = LineKind.PAYMENT, abs(fee)
            else:
                kind = LineKind.OTHER
        lines.append(
            cell.line(
                booked_on=booked_on,
                amount=amount,
                currency=parse_currency(
                    cell.text("货币种类"), column="货币种类", where=cell.row.where, default="CNY"
                ),
                kind=kind,
                reference=reference,
                narrative=join_narrative([cell.text("商品名称"), cell.text("商户数据包")]),
                counterparty_account=cell.text("用户标识"),
                out_trade_no=cell.text("商户订单号"),
                gateway_trade_no=gateway_no,
                fee=fee,
            )
        )
    return lines


def _wechat_fundflow_kind(business: str) -> LineKind:
    if "退款" in business:
        return LineKind.REFUND
    if "手续费" in business:
        return LineKind.FEE
    if "提现" in business:
        return LineKind.PAYOUT
    if "交易" in business:
        return LineKind.PAYMENT
    return LineKind.OTHER


def _wechat_fundflow_lines(table: Table) -> list[ParsedLine]:
    lines = []
    for cell in bill_rows(table, "记账时间"):
        amount = abs(cell.amount("收支金额(元)"))
        direction = cell.text("收支类型")
        if direction not in ("收入", "支出"):
            raise StatementParseError(
                _("Cannot tell money in from money out: %(value)r in column %(column)s.")
                % {"value": direction, "column": "收支类型"},
                where=cell.row.where,
            )
        lines.append(
            cell.line(
                booked_on=cell.date("记账时间"),
                amount=amount if direction == "收入" else -amount,
                currency="CNY",
                kind=_wechat_fundflow_kind(cell.text("业务类型")),
                reference=cell.text("资金流水单号"),
                narrative=join_narrative([cell.text("业务名称"), cell.text("备注")]),
                gateway_trade_no=cell.text("微信支付业务单号"),
            )
        )
    return lines


def parse_wechat_bill(data: bytes) -> ParsedFile:
    """A WeChat Pay 交易账单 (ALL, SUCCESS or REFUND) or 资金账单, plain or gzipped,
    or the app's personal export (CSV or .xlsx)."""
    if data.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise StatementParseError(
                _("The file cannot be unpacked as gzip: %(error)s.") % {"error": exc}
            ) from exc
    kind = detect_kind(data)
    if kind == "csv":
        grid = _wechat_grid(decode_bytes(data)[0])
        for names, read in (
            (_WECHAT_TRADE, _wechat_trade_lines),
            (_WECHAT_FUNDFLOW, _wechat_fundflow_lines),
        ):
            index = find_header(grid, _groups(names))
            if index is None:
                continue
            table = Table(grid, index)
            lines = tuple(read(table))
            if read is _wechat_fundflow_lines:
                mapping = "wechat_fundflow"
            elif table.column(("退款申请时间",)) is not None:
                mapping = "wechat_refund"
            elif table.column(("退款金额",)) is not None:
                mapping = "wechat_all"
            else:
                mapping = "wechat_success"
            accounts = {line.raw.get("商户号", "") for line in lines}
            currencies = {line.currency for line in lines} or {"CNY"}
            section = ParsedSection(
                account=accounts.pop() if len(accounts) == 1 else "",
                currency=currencies.pop() if len(currencies) == 1 else "",
                lines=lines,
            )
            return ParsedFile(format="wechat", sections=(section,), mapping=mapping)
    grids = read_grids(data, kind)
    personal = parse_personal(grids, WECHAT_PERSONAL)
    if personal is None:
        raise not_a_bill(_("WeChat Pay"), grids[0] if grids else Grid(kind))
    return personal
