"""Consumer (personal) exports of the Alipay and WeChat apps.

Families upload these as proof that they paid: the row of their payment carries
the merchant order number (商家订单号 / 商户单号) that our checkout created, so it
can be matched like a gateway bill line. Amounts are signed from the uploader's
side (支出 is negative). Rows the apps count as neither income nor expense
(不计收支, ``/``: refunds, moves between the user's own wallet and cards) carry
no direction: refunds come out as positive REFUND lines, the rest as OTHER with
the unsigned amount, which a matcher must not treat as a payment. A closed trade
(交易关闭) moved no money, or moved it back through a separate refund row, so it
is OTHER too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from .base import LineKind, ParsedFile, ParsedLine, ParsedSection, StatementParseError
from .cells import normalise_header, parse_amount, parse_date, raw_text, try_parse_date
from .grid import Grid, Row, Table, find_header
from .tabular import join_narrative

__all__ = ["ALIPAY_PERSONAL", "WECHAT_PERSONAL", "PersonalLayout", "parse_personal", "period_of"]

_FEE_IN_NOTE_RE = re.compile(r"服务费\s*[¥￥]?\s*(\d[\d,]*(?:\.\d+)?)")
_PERIOD_RE = re.compile(
    r"(?:起始|开始)(?:日期|时间)[:：]\s*\[([^\]]+)\].*?(?:终止|结束)(?:日期|时间)[:：]\s*\[([^\]]+)\]"
)
_ALIPAY_ACCOUNT_RE = re.compile(r"支付宝账户[:：]\s*(\S+)")


@dataclass(frozen=True)
class PersonalLayout:
    format: str
    mapping: str
    booked_on: tuple[str, ...]
    amount: tuple[str, ...]
    direction: tuple[str, ...]
    gateway_trade_no: tuple[str, ...]
    out_trade_no: tuple[str, ...]
    status: tuple[str, ...]
    category: tuple[str, ...]
    counterparty_name: tuple[str, ...]
    counterparty_account: tuple[str, ...]
    narrative: tuple[str, ...]
    fee: tuple[str, ...] = ()
    note: tuple[str, ...] = ("备注",)

    def groups(self) -> list[tuple[str, ...]]:
        return [self.booked_on, self.amount, self.direction, self.gateway_trade_no]


ALIPAY_PERSONAL = PersonalLayout(
    format="alipay",
    mapping="alipay_personal",
    booked_on=("交易时间", "付款时间", "交易创建时间"),
    amount=("金额", "金额(元)"),
    direction=("收/支",),
    gateway_trade_no=("交易订单号", "交易号"),
    out_trade_no=("商家订单号",),
    status=("交易状态",),
    category=("交易分类", "类型"),
    counterparty_name=("交易对方",),
    counterparty_account=("对方账号",),
    narrative=("商品说明", "商品名称", "备注"),
    fee=("服务费(元)",),
)

WECHAT_PERSONAL = PersonalLayout(
    format="wechat",
    mapping="wechat_personal",
    booked_on=("交易时间",),
    amount=("金额(元)", "金额"),
    direction=("收/支",),
    gateway_trade_no=("交易单号",),
    out_trade_no=("商户单号",),
    status=("当前状态",),
    category=("交易类型",),
    counterparty_name=("交易对方",),
    counterparty_account=(),
    narrative=("商品", "备注"),
)


def period_of(text: str) -> tuple[dt.date | None, dt.date | None]:
    """The ``起始时间：[...] 终止时间：[...]`` range the apps print above the table."""
    match = _PERIOD_RE.search(text)
    if not match:
        return None, None
    return try_parse_date(match[1]), try_parse_date(match[2])


def _kind_and_amount(row_texts: dict[str, str], amount: Decimal) -> tuple[LineKind, Decimal]:
    direction = normalise_header(row_texts["direction"])
    status, category = row_texts["status"], row_texts["category"]
    if direction == "支出":
        signed = -abs(amount)
    elif direction == "收入":
        signed = abs(amount)
    else:
        signed = None
    if "退款" in status or "退款" in category:
        return LineKind.REFUND, abs(amount) if signed is None else signed
    if signed is None or "交易关闭" in status:
        return LineKind.OTHER, abs(amount) if signed is None else signed
    return LineKind.TRANSFER, signed


def parse_personal(grids: list[Grid], layout: PersonalLayout) -> ParsedFile | None:
    """Lines of a personal export, or ``None`` if no sheet has its header."""
    for grid in grids:
        index = find_header(grid, layout.groups())
        if index is not None:
            break
    else:
        return None
    table = Table(grid, index)
    pos = {
        name: table.column(getattr(layout, name))
        for name in (
            "booked_on",
            "amount",
            "direction",
            "gateway_trade_no",
            "out_trade_no",
            "status",
            "category",
            "counterparty_name",
            "counterparty_account",
            "fee",
            "note",
        )
    }
    narrative = [p for p in (table.column((name,)) for name in layout.narrative) if p is not None]

    def is_data(row: Row) -> bool:
        return try_parse_date(row.value(pos["booked_on"])) is not None

    lines = []
    for row in table.rows(is_data):
        texts = {name: row.text(position) for name, position in pos.items()}
        amount = parse_amount(
            row.value(pos["amount"]), column=table.header(pos["amount"]), where=row.where
        )
        kind, signed = _kind_and_amount(texts, amount)
        fee = Decimal("0.00")
        if texts["fee"]:
            fee = abs(
                parse_amount(
                    row.value(pos["fee"]), column=table.header(pos["fee"]), where=row.where
                )
            )
        elif match := _FEE_IN_NOTE_RE.search(texts["note"]):
            fee = Decimal(match[1].replace(",", ""))
        lines.append(
            ParsedLine(
                line_no=row.number,
                booked_on=parse_date(
                    row.value(pos["booked_on"]),
                    column=table.header(pos["booked_on"]),
                    where=row.where,
                ),
                amount=signed,
                currency="CNY",
                kind=kind,
                reference=texts["gateway_trade_no"],
                narrative=join_narrative([row.text(p) for p in narrative]),
                counterparty_name=texts["counterparty_name"],
                counterparty_account=texts["counterparty_account"],
                out_trade_no=texts["out_trade_no"],
                gateway_trade_no=texts["gateway_trade_no"],
                fee=fee,
                path=row.where,
                raw=table.raw(row),
            )
        )
    preamble = "\n".join(
        " ".join(raw_text(cell) for cell in cells if raw_text(cell)) for cells in table.preamble
    )
    start, end = period_of(preamble)
    account = _ALIPAY_ACCOUNT_RE.search(preamble)
    section = ParsedSection(
        account=account[1] if account else "",
        currency="CNY",
        period_start=start,
        period_end=end,
        lines=tuple(lines),
    )
    return ParsedFile(format=layout.format, sections=(section,), mapping=layout.mapping)


def not_a_bill(format_label: str, grid: Grid) -> StatementParseError:
    return StatementParseError(
        _("This file is not a %(format)s bill: none of its known header rows was found.")
        % {"format": format_label},
        where=grid.span(100),
    )
