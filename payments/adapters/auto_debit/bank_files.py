"""What a bank sends back for one of our pain.008 files: a stand-in for the bank.

:func:`pain002_for` answers with a status report (accepted, rejected with a reason,
or the whole file rejected) and :func:`camt054_for` with a debit/credit notification
(the collected amounts credited, later returns with a reason, reversals);
:func:`camt054` writes a notification from explicit :class:`Booking` lines. The demo
plays the bank with them and the tests feed them back to the import; nothing in the
collection path calls them.

The files follow ISO 20022 (namespaces, required elements, element order):
pain.002.001.10 (or .001.03) and camt.054.001.08 (or .001.02).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from feemgmt.core.money import Money, money_str
from payments.adapters.auto_debit.iso20022 import Pain008, read_pain008, reason_text

__all__ = ["Booking", "camt054", "camt054_for", "pain002_for"]

ISO_NS = "urn:iso:std:iso:20022:tech:xsd:"


# --- XML writing -------------------------------------------------------------------


class _Writer:
    def __init__(self, namespace: str):
        self.ns = ISO_NS + namespace
        self.root = etree.Element(f"{{{self.ns}}}Document", nsmap={None: self.ns})

    def add(self, parent, tag: str, text: str | None = None, **attributes: str):
        element = etree.SubElement(parent, f"{{{self.ns}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    def path(self, parent, path: str, text: str | None = None):
        """Add the chain of elements ``A/B/C`` and put ``text`` in the last."""
        steps = path.split("/")
        for step in steps[:-1]:
            parent = self.add(parent, step)
        return self.add(parent, steps[-1], text)

    def amount(self, parent, tag: str, value: Money):
        return self.add(parent, tag, money_str(value), Ccy=value.currency.code)

    def bytes(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _timestamp(value: dt.datetime | None) -> str:
    value = value or dt.datetime(2026, 12, 2, 8, 30, tzinfo=dt.UTC)
    return value.replace(microsecond=0).isoformat()


def _initiation(pain008: bytes | Pain008) -> Pain008:
    return pain008 if isinstance(pain008, Pain008) else read_pain008(pain008)


# --- pain.002 ------------------------------------------------------------------------


def _overall(rejected: int, total: int) -> str:
    if rejected == 0:
        return "ACCP"
    return "RJCT" if rejected == total else "PART"


def pain002_for(
    pain008: bytes | Pain008,
    *,
    rejected: Mapping[str, str] | None = None,
    group_reject: str | None = None,
    report_accepted: bool = True,
    message_id: str = "STS-0001",
    created_at: dt.datetime | None = None,
    version: str = "pain.002.001.10",
) -> bytes:
    """The bank's status report on ``pain008``.

    ``rejected`` maps end-to-end ids to ISO reason codes (AM04, MD01, AC04...): those
    transactions are RJCT, the others ACCP (listed only with ``report_accepted``).
    ``group_reject`` (e.g. "FF01") rejects the whole file with a group status alone.
    """
    if version not in ("pain.002.001.10", "pain.002.001.03"):
        raise ValueError(f"unsupported pain.002 version {version}")
    initiation = _initiation(pain008)
    rejected = dict(rejected or {})
    unknown = set(rejected) - {d.end_to_end_id for d in initiation.debits}
    if unknown:
        raise ValueError(f"not in the pain.008: {sorted(unknown)}")
    w = _Writer(version)
    report = w.add(w.root, "CstmrPmtStsRpt")
    header = w.add(report, "GrpHdr")
    w.add(header, "MsgId", message_id)
    w.add(header, "CreDtTm", _timestamp(created_at))
    group = w.add(report, "OrgnlGrpInfAndSts")
    w.add(group, "OrgnlMsgId", initiation.message_id)
    w.add(group, "OrgnlMsgNmId", initiation.version)
    w.add(group, "OrgnlNbOfTxs", str(initiation.number_of_transactions))
    w.add(group, "OrgnlCtrlSum", str(initiation.control_sum))
    if group_reject:
        w.add(group, "GrpSts", "RJCT")
        info = w.add(group, "StsRsnInf")
        w.path(info, "Rsn/Cd", group_reject)
        w.add(info, "AddtlInf", reason_text(group_reject)[:105])
        return w.bytes()
    w.add(group, "GrpSts", _overall(len(rejected), initiation.number_of_transactions))
    for batch in initiation.batches:
        block = w.add(report, "OrgnlPmtInfAndSts")
        w.add(block, "OrgnlPmtInfId", batch.payment_info_id)
        w.add(block, "OrgnlNbOfTxs", str(batch.number_of_transactions))
        w.add(block, "OrgnlCtrlSum", str(batch.control_sum))
        refused = [d for d in batch.debits if d.end_to_end_id in rejected]
        w.add(block, "PmtInfSts", _overall(len(refused), len(batch.debits)))
        for number, debit in enumerate(batch.debits, 1):
            reason = rejected.get(debit.end_to_end_id)
            if reason is None and not report_accepted:
                continue
            tx = w.add(block, "TxInfAndSts")
            w.add(tx, "StsId", f"{message_id}-{batch.payment_info_id[-4:]}-{number}"[-35:])
            w.add(tx, "OrgnlEndToEndId", debit.end_to_end_id)
            w.add(tx, "TxSts", "RJCT" if reason else "ACCP")
            if reason:
                info = w.add(tx, "StsRsnInf")
                w.path(info, "Rsn/Cd", reason)
                w.add(info, "AddtlInf", reason_text(reason)[:105])
            ref = w.add(tx, "OrgnlTxRef")
            w.amount(w.add(ref, "Amt"), "InstdAmt", debit.amount)
            w.add(ref, "ReqdColltnDt", batch.collection_date.isoformat())
    return w.bytes()


# --- camt.054 ------------------------------------------------------------------------

_SUB_FAMILY = {"collected": "ESDD", "returned": "UPDD", "reversed": "PRDD"}


@dataclass(frozen=True, kw_only=True)
class Booking:
    """One line on the creditor's account: a debit ``collected`` (CRDT), ``returned``
    by the debtor's bank with ``reason`` (DBIT, RtrInf), or ``reversed`` (DBIT with
    RvslInd, the earlier credit cancelled)."""

    end_to_end_id: str
    amount: Money
    kind: str
    booked_on: dt.date
    reason: str | None = None
    mandate_id: str | None = None
    payment_info_id: str | None = None

    def __post_init__(self):
        if self.kind not in _SUB_FAMILY:
            raise ValueError(f"kind must be one of {sorted(_SUB_FAMILY)}")
        if self.kind == "returned" and not self.reason:
            raise ValueError("a return needs a reason code")


def camt054(
    bookings: Sequence[Booking],
    *,
    account_iban: str,
    message_id: str = "NTF-0001",
    created_at: dt.datetime | None = None,
    version: str = "camt.054.001.08",
) -> bytes:
    """A debit/credit notification for ``account_iban`` with one entry per booking."""
    if version not in ("camt.054.001.08", "camt.054.001.02"):
        raise ValueError(f"unsupported camt.054 version {version}")
    modern = version.endswith(".08")
    w = _Writer(version)
    message = w.add(w.root, "BkToCstmrDbtCdtNtfctn")
    header = w.add(message, "GrpHdr")
    w.add(header, "MsgId", message_id)
    w.add(header, "CreDtTm", _timestamp(created_at))
    notification = w.add(message, "Ntfctn")
    w.add(notification, "Id", f"{message_id}-1")
    w.add(notification, "CreDtTm", _timestamp(created_at))
    w.path(w.add(notification, "Acct"), "Id/IBAN", account_iban)
    for number, booking in enumerate(bookings, 1):
        indicator = "CRDT" if booking.kind == "collected" else "DBIT"
        reference = f"{message_id}-{number:04d}"[-35:]
        entry = w.add(notification, "Ntry")
        w.add(entry, "NtryRef", reference)
        w.amount(entry, "Amt", booking.amount)
        w.add(entry, "CdtDbtInd", indicator)
        if booking.kind == "reversed":
            w.add(entry, "RvslInd", "true")
        if modern:
            w.path(entry, "Sts/Cd", "BOOK")
        else:
            w.add(entry, "Sts", "BOOK")
        w.path(entry, "BookgDt/Dt", booking.booked_on.isoformat())
        w.path(entry, "ValDt/Dt", booking.booked_on.isoformat())
        w.add(entry, "AcctSvcrRef", reference)
        domain = w.path(entry, "BkTxCd/Domn/Cd", "PMNT").getparent()
        family = w.add(domain, "Fmly")
        w.add(family, "Cd", "IDDT")
        w.add(family, "SubFmlyCd", _SUB_FAMILY[booking.kind])
        tx = w.path(entry, "NtryDtls/TxDtls")
        refs = w.add(tx, "Refs")
        w.add(refs, "AcctSvcrRef", reference)
        if booking.payment_info_id:
            w.add(refs, "PmtInfId", booking.payment_info_id)
        w.add(refs, "EndToEndId", booking.end_to_end_id)
        if booking.mandate_id:
            w.add(refs, "MndtId", booking.mandate_id)
        if modern:
            w.amount(tx, "Amt", booking.amount)
            w.add(tx, "CdtDbtInd", indicator)
        else:
            w.amount(w.path(tx, "AmtDtls/TxAmt"), "Amt", booking.amount)
        if booking.kind == "returned":
            info = w.add(tx, "RtrInf")
            w.path(info, "Rsn/Cd", booking.reason)
            w.add(info, "AddtlInf", reason_text(booking.reason)[:105])
    return w.bytes()


def camt054_for(
    pain008: bytes | Pain008,
    *,
    rejected: Iterable[str] = (),
    returns: Mapping[str, str] | None = None,
    reversals: Iterable[str] = (),
    returned_on: dt.date | None = None,
    message_id: str = "NTF-0001",
    created_at: dt.datetime | None = None,
    version: str = "camt.054.001.08",
) -> bytes:
    """The notification a bank sends after collecting ``pain008``: each debit not
    ``rejected`` (by the pain.002) credited on its collection date; then each of
    ``returns`` (end-to-end id → reason code, e.g. MD06 for a debtor's refund claim,
    AM04) debited back with its reason, and each of ``reversals`` debited back as a
    reversal, on ``returned_on`` (default: five days after collection)."""
    initiation = _initiation(pain008)
    rejected, reversals = set(rejected), set(reversals)
    returns = dict(returns or {})
    debits = {d.end_to_end_id for d in initiation.debits}
    unknown = (rejected | reversals | set(returns)) - debits
    if unknown:
        raise ValueError(f"not in the pain.008: {sorted(unknown)}")
    bookings, later = [], []
    for batch in initiation.batches:
        for debit in batch.debits:
            key = debit.end_to_end_id
            if key in rejected:
                continue
            common = {
                "end_to_end_id": key,
                "amount": debit.amount,
                "mandate_id": debit.mandate.reference,
                "payment_info_id": batch.payment_info_id,
            }
            bookings.append(Booking(kind="collected", booked_on=debit.collection_date, **common))
            back_on = returned_on or debit.collection_date + dt.timedelta(days=5)
            if key in returns:
                later.append(
                    Booking(kind="returned", reason=returns[key], booked_on=back_on, **common)
                )
            if key in reversals:
                later.append(Booking(kind="reversed", booked_on=back_on, **common))
    return camt054(
        bookings + later,
        account_iban=initiation.creditor.iban,
        message_id=message_id,
        created_at=created_at,
        version=version,
    )
