"""ISO 20022 camt.053 Bank-to-Customer Statements, versions .001.02 to .001.08.

The XML is read with the payments app's ISO 20022 parser setup (no entities, no DTD,
no network, DOCTYPE refused), so a bank file cannot reach out or blow up in memory.
Its ``_Doc`` lookups are not used: their errors name an element but not its path,
and a statement import must point at ``/Document/BkToCstmrStmt/Stmt[2]/Ntry[3]/Amt``.

Signs come from ``CdtDbtInd`` alone. For a reversal (``RvslInd``) the bank books the
opposite direction of the original entry, so the indicator already says how the
reversal moves the balance.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree

from payments.adapters.auto_debit.iso20022 import ISO_NS, Iso20022Error, parse_xml
from reconciliation.parsers.base import (
    LineKind,
    ParsedFile,
    ParsedLine,
    ParsedSection,
    StatementParseError,
)

__all__ = ["SUPPORTED_VERSIONS", "parse_camt053"]

SUPPORTED_VERSIONS = ("02", "03", "04", "05", "06", "07", "08")
_NAMESPACE = re.compile(re.escape(ISO_NS) + r"([a-z]{4}\.\d{3})\.(\d{3})\.(\d{2})")
_AMOUNT = re.compile(r"\d+(\.\d+)?")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
_OPENING = ("OPBD", "PRCD")  # a previous closing booked balance opens the next statement
_INDEXED = frozenset({"Stmt", "Ntry", "Bal", "TxDtls"})


class _Reader:
    """Namespace-aware lookups that raise :class:`StatementParseError` with the path
    and line of the element at fault."""

    def __init__(self, namespace: str):
        self.ns = {"c": namespace}

    def _xpath(self, path: str) -> str:
        return "/".join(f"c:{step}" for step in path.split("/"))

    def find(self, element, path: str):
        return element.find(self._xpath(path), self.ns)

    def findall(self, element, path: str) -> list:
        return element.findall(self._xpath(path), self.ns)

    def text(self, element, path: str) -> str:
        found = self.find(element, path)
        return " ".join((found.text or "").split()) if found is not None else ""

    def texts(self, element, path: str) -> list[str]:
        return [" ".join(e.text.split()) for e in self.findall(element, path) if e.text]

    def fail(self, element, message: str, child: str = "") -> StatementParseError:
        path = _path(element) + (f"/{child}" if child else "")
        return StatementParseError(message, where=f"{path} (line {element.sourceline})")

    def required(self, element, path: str):
        found = self.find(element, path)
        if found is None:
            raise self.fail(element, _("missing %(element)s") % {"element": path}, path)
        return found

    def amount(self, element, path: str) -> tuple[Decimal, str]:
        node = self.required(element, path)
        text = (node.text or "").strip()
        try:
            value = Decimal(text) if _AMOUNT.fullmatch(text) else None
        except InvalidOperation:
            value = None
        if value is None:
            raise self.fail(node, _("amount “%(value)s” is not a number") % {"value": text})
        currency = (node.get("Ccy") or "").strip()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise self.fail(
                node, _("“%(value)s” is not a currency code (Ccy)") % {"value": currency}
            )
        return value, currency

    def sign(self, element, path: str = "CdtDbtInd") -> int:
        node = self.required(element, path)
        value = (node.text or "").strip()
        if value not in ("CRDT", "DBIT"):
            raise self.fail(node, _("“%(value)s” is not CRDT or DBIT") % {"value": value})
        return 1 if value == "CRDT" else -1

    def date(self, element, path: str, *, required: bool = False) -> dt.date | None:
        """The date of ``path``'s <Dt> or <DtTm> (as written, not moved to UTC)."""
        holder = self.required(element, path) if required else self.find(element, path)
        if holder is None:
            return None
        for child, pattern in (("Dt", _DATE), ("DtTm", _DATE_TIME)):
            node = self.find(holder, child)
            if node is not None:
                return self.date_of(node, pattern)
        raise self.fail(holder, _("%(element)s holds no Dt or DtTm") % {"element": path})

    def date_of(self, node, pattern: re.Pattern) -> dt.date:
        text = (node.text or "").strip()
        found = pattern.fullmatch(text)
        try:
            if found:
                return dt.date.fromisoformat(found.group(1))
        except ValueError:
            pass
        raise self.fail(node, _("“%(value)s” is not a date") % {"value": text})


def _path(element) -> str:
    steps = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == element.tag]
            if len(same) > 1 or name in _INDEXED:
                name += f"[{same.index(element) + 1}]"
        steps.append(name)
        element = parent
    return "/" + "/".join(reversed(steps))


def _root(data: bytes):
    try:
        root = parse_xml(data)
    except Iso20022Error as exc:
        where = f"line {exc.line}" if exc.line is not None else ""
        raise StatementParseError(exc.reason, where=where) from exc
    tag = etree.QName(root)
    where = f"/{tag.localname} (line {root.sourceline})"
    match = _NAMESPACE.fullmatch(tag.namespace or "")
    if tag.localname != "Document" or match is None:
        raise StatementParseError(
            _("not an ISO 20022 document: <%(tag)s> in namespace “%(ns)s”")
            % {"tag": tag.localname, "ns": tag.namespace or ""},
            where=where,
        )
    family, variant, version = match.groups()
    found = f"{family}.{variant}.{version}"
    if family != "camt.053" or variant != "001":
        raise StatementParseError(
            _("this is a %(found)s document, not a camt.053 bank statement") % {"found": found},
            where=where,
        )
    if version not in SUPPORTED_VERSIONS:
        raise StatementParseError(
            _("%(found)s is not supported (camt.053.001.02 to .08 are)") % {"found": found},
            where=where,
        )
    return root, tag.namespace


def _balances(doc: _Reader, statement) -> dict[str, tuple[Decimal, dt.date | None, str]]:
    """Every balance, checked; the first of each type code."""
    found: dict[str, tuple[Decimal, dt.date | None, str]] = {}
    for balance in doc.findall(statement, "Bal"):
        code = doc.text(balance, "Tp/CdOrPrtry/Cd") or doc.text(balance, "Tp/CdOrPrtry/Prtry")
        amount, currency = doc.amount(balance, "Amt")
        signed = amount * doc.sign(balance)
        found.setdefault(code, (signed, doc.date(balance, "Dt", required=True), currency))
    return found


def _party(doc: _Reader, details, role: str) -> tuple[str, str]:
    parties = doc.find(details, "RltdPties")
    if parties is None:
        return "", ""
    name = doc.text(parties, f"{role}/Nm") or doc.text(parties, f"{role}/Pty/Nm")
    account = doc.text(parties, f"{role}Acct/Id/IBAN") or doc.text(
        parties, f"{role}Acct/Id/Othr/Id"
    )
    return name, account


def _known(value: str) -> str:
    return "" if value.upper() in ("NOTPROVIDED", "NONREF") else value


def _codes(doc: _Reader, element) -> dict[str, str]:
    fields = {
        "domain": "BkTxCd/Domn/Cd",
        "family": "BkTxCd/Domn/Fmly/Cd",
        "sub_family": "BkTxCd/Domn/Fmly/SubFmlyCd",
        "proprietary_code": "BkTxCd/Prtry/Cd",
    }
    return {key: value for key, path in fields.items() if (value := doc.text(element, path))}


def _split(doc: _Reader, details: list, signed: Decimal, currency: str) -> list | None:
    """Each transaction's own signed amount, when they add up to the entry; else None
    (one line for the whole entry keeps the statement's balance)."""
    if len(details) < 2:
        return None
    amounts = []
    for tx in details:
        path = next((p for p in ("Amt", "AmtDtls/TxAmt/Amt") if doc.find(tx, p) is not None), "")
        if not path:
            return None
        amount, tx_currency = doc.amount(tx, path)
        sign = doc.sign(tx) if doc.find(tx, "CdtDbtInd") is not None else (1 if signed > 0 else -1)
        if tx_currency != currency:
            return None
        amounts.append(amount * sign)
    return amounts if sum(amounts, Decimal(0)) == signed else None


def _lines(doc: _Reader, entry, entry_path: str, currency: str) -> list[ParsedLine]:
    amount, entry_currency = doc.amount(entry, "Amt")
    signed = amount * doc.sign(entry)
    booked_on = doc.date(entry, "BookgDt", required=True)
    value_on = doc.date(entry, "ValDt")
    reversal = doc.text(entry, "RvslInd").lower() in ("true", "1")
    details = doc.findall(entry, "NtryDtls/TxDtls")
    amounts = _split(doc, details, signed, entry_currency)
    entry_raw = {
        "CdtDbtInd": doc.text(entry, "CdtDbtInd"),
        "RvslInd": doc.text(entry, "RvslInd"),
        "Sts": doc.text(entry, "Sts/Cd") or doc.text(entry, "Sts"),
        "NtryRef": doc.text(entry, "NtryRef"),
        "AcctSvcrRef": doc.text(entry, "AcctSvcrRef"),
        **_codes(doc, entry),
    }
    groups = [(tx, [tx]) for tx in details] if amounts else [(None, details)]
    lines = []
    for index, (own, group) in enumerate(groups):
        line_amount = amounts[index] if amounts else signed
        role = "Dbtr" if line_amount > 0 or (line_amount == 0 and signed >= 0) else "Cdtr"
        raw = {key: value for key, value in entry_raw.items() if value}
        narrative, references, end_to_end, name, account = [], [], "", "", ""
        for tx in group:
            for key in ("AcctSvcrRef", "EndToEndId", "InstrId", "TxId", "MndtId", "UETR"):
                value = doc.text(tx, f"Refs/{key}")
                if value:
                    raw.setdefault(f"tx_{key}", value)
            references.append(doc.text(tx, "Refs/AcctSvcrRef"))
            end_to_end = end_to_end or _known(doc.text(tx, "Refs/EndToEndId"))
            narrative += doc.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")
            narrative += doc.texts(tx, "RmtInf/Ustrd")
            narrative += [_known(doc.text(tx, "Refs/EndToEndId"))]
            narrative += doc.texts(tx, "AddtlTxInf")
            tx_name, tx_account = _party(doc, tx, role)
            name, account = name or tx_name, account or tx_account
            if doc.text(tx, "RtrInf/Rsn/Cd"):
                raw.setdefault("return_reason", doc.text(tx, "RtrInf/Rsn/Cd"))
            for key, value in _codes(doc, tx).items():
                raw.setdefault(f"tx_{key}", value)
        narrative += doc.texts(entry, "AddtlNtryInf")
        if reversal:
            kind = LineKind.REVERSAL
        elif "return_reason" in raw:
            kind = LineKind.RETURN
        else:
            kind = LineKind.TRANSFER
        path = entry_path + (f"/NtryDtls/TxDtls[{index + 1}]" if own is not None else "")
        lines.append(
            ParsedLine(
                line_no=entry.sourceline,
                booked_on=booked_on,
                value_on=value_on,
                amount=line_amount,
                currency=entry_currency or currency,
                kind=kind,
                reference=next((r for r in references if r), "")
                or entry_raw["AcctSvcrRef"]
                or entry_raw["NtryRef"],
                narrative=" | ".join(dict.fromkeys(part for part in narrative if part)),
                counterparty_name=name,
                counterparty_account=account,
                end_to_end_id=end_to_end,
                path=path,
                raw=raw,
            )
        )
    return lines


def _section(doc: _Reader, statement, statement_path: str) -> ParsedSection:
    balances = _balances(doc, statement)
    opening = next((balances[code] for code in _OPENING if code in balances), None)
    closing = balances.get("CLBD")
    currency = doc.text(statement, "Acct/Ccy") or next(
        (balance[2] for balance in (opening, closing) if balance), ""
    )
    lines: list[ParsedLine] = []
    for index, entry in enumerate(doc.findall(statement, "Ntry"), 1):
        lines += _lines(doc, entry, f"{statement_path}/Ntry[{index}]", currency)
    if not currency and lines:
        currency = lines[0].currency
    return ParsedSection(
        account=doc.text(statement, "Acct/Id/IBAN") or doc.text(statement, "Acct/Id/Othr/Id"),
        currency=currency,
        statement_id=doc.text(statement, "Id"),
        period_start=_period(doc, statement, "Fr"),
        period_end=_period(doc, statement, "To"),
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        lines=tuple(lines),
    )


def _period(doc: _Reader, statement, end: str) -> dt.date | None:
    period = doc.find(statement, "FrToDt")
    if period is None:
        return None
    for child, pattern in ((f"{end}DtTm", _DATE_TIME), (f"{end}Dt", _DATE)):
        node = doc.find(period, child)
        if node is not None:
            return doc.date_of(node, pattern)
    return None


def parse_camt053(data: bytes) -> ParsedFile:
    """Every statement of a camt.053 file, one section per <Stmt>, in file order.

    A batch entry becomes one line per <TxDtls> only when each carries its own amount
    and together they make up the entry; otherwise the entry is one line. Available
    balances (OPAV, CLAV, ...) are checked but not returned.
    """
    root, namespace = _root(data)
    doc = _Reader(namespace)
    message = doc.required(root, "BkToCstmrStmt")
    statements = doc.findall(message, "Stmt")
    if not statements:
        raise doc.fail(message, _("missing %(element)s") % {"element": "Stmt"}, "Stmt[1]")
    base = "/Document/BkToCstmrStmt"
    return ParsedFile(
        format="camt053",
        sections=tuple(
            _section(doc, statement, f"{base}/Stmt[{index}]")
            for index, statement in enumerate(statements, 1)
        ),
    )
