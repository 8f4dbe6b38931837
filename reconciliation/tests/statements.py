"""Statement files built in the tests, in the real wire formats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from billing.models import Charge
from contracts.tests.factories import CustomerFactory
from payments.services.collection import Outcome, charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from reconciliation.models import BankAccount
from tests.clock import at

ACCOUNT_NUMBER = "CN12ICBC0200001234567890"


@dataclass(frozen=True)
class Entry:
    amount: str  # signed: "-" for money out
    text: str = ""
    payer: str = ""
    booked_on: dt.date = DAY
    reference: str = ""
    end_to_end: str = ""
    reversal: bool = False


def camt053(*entries: Entry, account: str = ACCOUNT_NUMBER, currency: str = "CNY") -> bytes:
    """A camt.053.001.02 statement with these entries."""
    opening = Decimal("10000.00")
    closing = opening + sum(Decimal(e.amount) for e in entries)
    rows = []
    for number, entry in enumerate(entries, start=1):
        amount = Decimal(entry.amount)
        sign = "CRDT" if amount > 0 else "DBIT"
        party = "Dbtr" if amount > 0 else "Cdtr"
        rows.append(
            f"""<Ntry><Amt Ccy="{currency}">{abs(amount)}</Amt><CdtDbtInd>{sign}</CdtDbtInd>
<RvslInd>{"true" if entry.reversal else "false"}</RvslInd><Sts>BOOK</Sts>
<BookgDt><Dt>{entry.booked_on.isoformat()}</Dt></BookgDt><ValDt><Dt>{entry.booked_on.isoformat()}</Dt></ValDt>
<AcctSvcrRef>{escape(entry.reference or f"BANKREF{number:04d}")}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>{escape(entry.end_to_end or "NOTPROVIDED")}</EndToEndId></Refs>
<RltdPties><{party}><Nm>{escape(entry.payer or "付款人")}</Nm></{party}></RltdPties>
<RmtInf><Ustrd>{escape(entry.text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>STMT-TEST</MsgId><CreDtTm>2026-03-03T08:00:00</CreDtTm></GrpHdr>
<Stmt><Id>STMT-1</Id><CreDtTm>2026-03-03T08:00:00</CreDtTm>
<Acct><Id><Othr><Id>{account}</Id></Othr></Id><Ccy>{currency}</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{opening}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{closing}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-03</Dt></Dt></Bal>
{"".join(rows)}
</Stmt></BkToCstmrStmt></Document>""".encode()


def receiving_account(**fields) -> BankAccount:
    defaults = {
        "code": "icbc-cny",
        "name": "工商银行基本户",
        "bank": "中国工商银行上海分行",
        "account_number": ACCOUNT_NUMBER,
        "holder": "上海示例管理有限公司",
        "currency": "CNY",
        "receives_transfers": True,
    }
    return BankAccount.objects.create(**{**defaults, **fields})


def transfer_notice(amount: str = "3000.00", *, customer_name: str | None = None) -> Charge:
    """A bank-transfer charge whose payment notice (with its reference) went out."""
    customer = CustomerFactory(**({"name": customer_name} if customer_name else {}))
    charge = billed_charge(amount, method="bank_transfer", customer=customer)
    with at(DAY):
        assert charge_collect(charge.pk, on=DAY) == Outcome.PENDING
    return charge


def reference_of(charge: Charge) -> str:
    return charge.attempts.get().provider_reference
