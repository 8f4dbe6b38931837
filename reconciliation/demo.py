"""The demo's banks and gateways: the files they would send, written from what the
demo's customers did.

Real banks and gateways are outside reach, so the demo plays them: a corporate
account export in the shape Chinese banks give (GB18030, title rows, 借方/贷方
columns, a 合计 row), an Alipay 业务明细 bill (GBK, ``#`` framing, trailing tabs),
and a camt.053 for the euro account. The files go through the same importer a
finance clerk uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class BankRow:
    booked_on: dt.date
    amount: Decimal  # + money in
    payer: str
    payer_account: str
    purpose: str
    reference: str


def corporate_export(*, account: str, holder: str, rows: list[BankRow]) -> bytes:
    """A 对公账户明细 export: title rows, header, one row per movement, 合计."""
    balance = Decimal("250000.00")
    lines = [
        "中国工商银行对公账户交易明细",
        f"账号：{account},户名：{holder}",
        "交易日期,交易流水号,借方发生额,贷方发生额,余额,对方户名,对方账号,摘要,用途",
    ]
    debit_total = credit_total = Decimal(0)
    for row in rows:
        balance += row.amount
        credit = f"{row.amount:,.2f}" if row.amount > 0 else ""
        debit = f"{-row.amount:,.2f}" if row.amount < 0 else ""
        credit_total += max(row.amount, Decimal(0))
        debit_total += max(-row.amount, Decimal(0))
        cells = [
            row.booked_on.strftime("%Y%m%d"),
            row.reference,
            f'"{debit}"' if debit else "",
            f'"{credit}"' if credit else "",
            f'"{balance:,.2f}"',
            row.payer,
            row.payer_account,
            "转账" if row.amount > 0 else "汇出",
            row.purpose,
        ]
        lines.append(",".join(cells))
    lines.append(f'合计,,"{debit_total:,.2f}","{credit_total:,.2f}",,,,,')
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


@dataclass(frozen=True)
class BillRow:
    trade_no: str
    out_trade_no: str
    amount: Decimal
    fee: Decimal
    done_at: dt.datetime
    goods: str


_ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
    "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)
_BAR = "#-----------------------------------------"


def alipay_trade_bill(*, merchant: str, day: dt.date, rows: list[BillRow]) -> bytes:
    """Alipay's 业务明细 for one day, as its bill download delivers it."""
    zero = "0.00"
    body = []
    for row in rows:
        stamp = row.done_at.strftime("%Y-%m-%d %H:%M:%S")
        cells = [row.trade_no, row.out_trade_no, "交易", row.goods, stamp, stamp, "", "", "",
                 "", "", f"{row.amount:.2f}", f"{row.amount:.2f}", zero, zero, zero, zero, zero,
                 "", zero, zero, "", f"{-row.fee:.2f}", zero, ""]  # fmt: skip
        body.append(",".join(f"{cell}\t" for cell in cells))
    total = sum((row.amount for row in rows), Decimal(0))
    lines = [
        "#支付宝业务明细查询",
        f"#账号：[{merchant}]",
        f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day:%Y年%m月%d日} 23:59:59]",
        f"{_BAR}业务明细列表----------------------------------------",
        _ALIPAY_HEADER,
        *body,
        f"{_BAR}业务明细列表结束------------------------------------",
        f"#交易合计：{len(rows)}笔，商家实收共：{total:.2f}元，商家优惠共：0.00元",
        f"#导出时间：[{day:%Y年%m月%d日} 23:59:59]",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


@dataclass(frozen=True)
class CamtEntry:
    booked_on: dt.date
    amount: Decimal
    text: str
    reference: str
    end_to_end: str = "NOTPROVIDED"
    reversal: bool = False


def camt053(*, iban: str, currency: str, rows: list[CamtEntry], statement_id: str) -> bytes:
    """A camt.053.001.08 day statement for the euro account."""
    opening = Decimal("5000.00")
    closing = opening + sum((row.amount for row in rows), Decimal(0))
    day = max((row.booked_on for row in rows), default=dt.date.today())
    entries = []
    for row in rows:
        sign = "CRDT" if row.amount > 0 else "DBIT"
        entries.append(
            f'<Ntry><Amt Ccy="{currency}">{abs(row.amount):.2f}</Amt>'
            f"<CdtDbtInd>{sign}</CdtDbtInd>"
            f"<RvslInd>{'true' if row.reversal else 'false'}</RvslInd>"
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{row.booked_on}</Dt></BookgDt>"
            f"<ValDt><Dt>{row.booked_on}</Dt></ValDt>"
            f"<AcctSvcrRef>{escape(row.reference)}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
            "</Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(row.end_to_end)}</EndToEndId></Refs>"
            f"<RmtInf><Ustrd>{escape(row.text)}</Ustrd></RmtInf></TxDtls>"
            "</NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><CreDtTm>{day}T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{opening:.2f}'
        f"</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{closing:.2f}'
        f"</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
        f"{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    ).encode()
