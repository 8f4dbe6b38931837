"""What every statement parser returns, whatever the file looked like.

Parsers are pure: bytes in, :class:`ParsedFile` out, no database. Amounts are exact
``Decimal`` and signed from the account holder's side: positive is money in
(credit to our account, 贷方/收入), negative is money out (debit, 借方/支出). A
parser that cannot read a file raises :class:`StatementParseError` naming the line
(text formats) or the element path (XML) and the problem; it never returns a
partial result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "LineKind",
    "ParsedFile",
    "ParsedLine",
    "ParsedSection",
    "StatementParseError",
]


class LineKind(StrEnum):
    """What a line is, as far as the file says."""

    TRANSFER = "transfer"  # a bank credit or debit (the default for bank files)
    PAYMENT = "payment"  # a gateway bill's successful payment
    REFUND = "refund"  # a gateway bill's refund, or a bank refund line
    REVERSAL = "reversal"  # the bank takes back an earlier entry (RvslInd, MT940 RC/RD)
    RETURN = "return"  # a returned direct debit
    FEE = "fee"  # a gateway or bank fee on its own line
    PAYOUT = "payout"  # a gateway paying its balance out to a bank account
    OTHER = "other"


@dataclass(frozen=True)
class ParsedLine:
    """One movement on the statement."""

    line_no: int  # 1-based line of the file (or of the entry, for XML) it came from
    booked_on: dt.date
    amount: Decimal  # signed: + money in, - money out
    currency: str
    value_on: dt.date | None = None
    kind: LineKind = LineKind.TRANSFER
    # the bank's or gateway's own id of the movement, when the file gives one
    reference: str = ""
    # all free text that may carry a remittance reference: 摘要, 附言, 用途, :86:,
    # <RmtInf>, <AddtlNtryInf>, joined with " | "
    narrative: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    end_to_end_id: str = ""  # ISO 20022 EndToEndId
    out_trade_no: str = ""  # 商户订单号: our idempotency key, in gateway bills
    gateway_trade_no: str = ""  # 支付宝交易号 / 微信支付单号
    fee: Decimal = Decimal(0)  # 手续费 charged on this line (positive = we paid a fee)
    path: str = ""  # where in the file: "line 12", or an XML element path
    raw: dict[str, Any] = field(default_factory=dict)  # the cells/fields as read, str values


@dataclass(frozen=True)
class ParsedSection:
    """One statement inside a file (camt.053 ``<Stmt>``, one MT940 message, or the
    whole of a CSV export)."""

    account: str = ""  # account number / IBAN as the file names it, "" if it does not
    currency: str = ""
    statement_id: str = ""  # :20:/:28C:, <Stmt><Id>, bill date ...
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    lines: tuple[ParsedLine, ...] = ()


@dataclass(frozen=True)
class ParsedFile:
    format: str  # "csv", "xlsx", "xls", "mt940", "camt053", "alipay", "wechat"
    sections: tuple[ParsedSection, ...]
    # for tabular bank exports: which built-in or saved mapping read it ("icbc", ...)
    mapping: str = ""

    @property
    def lines(self) -> tuple[ParsedLine, ...]:
        return tuple(line for section in self.sections for line in section.lines)


class StatementParseError(ValueError):
    """The file cannot be read. ``where`` is "line 12", "row 5 of sheet 明细", or an
    XML element path like ``/Document/BkToCstmrStmt/Stmt[2]/Ntry[3]/Amt``."""

    def __init__(self, message: str, *, where: str = ""):
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message
