"""ISO 20022 files of a SEPA direct debit: pain.008 out, pain.002 and camt.054 in.

Pure functions over bytes and frozen dataclasses, no ORM: the payments services decide
which attempts go into which file and store what comes back.

- :func:`build_pain008` writes a **pain.008.001.08** Customer Direct Debit Initiation
  with sepaxml and validates it against the schema sepaxml ships. pain.008.001.08 is
  the ISO 20022 2019 message the EPC SEPA Direct Debit rulebooks have required since
  November 2023; banks are retiring the 2009 pain.008.001.02, and .08 lets a debit go
  without the debtor's BIC (IBAN-only) and the creditor agent without one too.
  :func:`read_pain008` reads a pain.008 back (.001.02, .003.02, .001.08 and later), so
  the services can see which payment information block holds which debit.
- :func:`read_pain002` reads the bank's Customer Payment Status Report (pain.002.001.03
  and later): statuses at group, payment-information and transaction level.
  :func:`resolve_statuses` turns them into one status per end-to-end id.
- :func:`read_camt054` reads a Bank-to-Customer Debit/Credit Notification
  (camt.054.001.02 to .08; the version comes from the document's namespace): each
  transaction of each entry, with its end-to-end id, amount, reversal and return reason.

SEPA direct debits are in euros only: :func:`build_pain008` refuses any other currency
(the auto_debit adapter declines such a charge before it is queued).

Every reader parses with lxml and a parser that resolves no entities, loads no DTD and
fetches nothing; a document with a DOCTYPE is refused outright (ISO 20022 files never
have one, and a DOCTYPE is how an entity-expansion or external-entity attack starts).
A file that cannot be read raises :class:`Iso20022Error`, whose message names the line
and the element, for the import page to show.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _
from lxml import etree
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SepaValidationError
from sepaxml.validation import try_valid_xml
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumError
from text_unidecode import unidecode

from feemgmt.core.money import Money, quantize

__all__ = [
    "PAIN008_VERSION",
    "REASON_TEXTS",
    "SEPA_CURRENCY",
    "Creditor",
    "Debit",
    "DebitEntry",
    "DebitStatus",
    "Iso20022Error",
    "Mandate",
    "Pain008",
    "Pain008Batch",
    "Pain008Error",
    "SequenceType",
    "build_pain008",
    "check_iban",
    "read_camt054",
    "read_pain002",
    "read_pain008",
    "reason_text",
    "resolve_statuses",
    "sepa_identifier_problem",
    "sepa_text",
]

PAIN008_VERSION = "pain.008.001.08"
SEPA_CURRENCY = "EUR"
ISO_NS = "urn:iso:std:iso:20022:tech:xsd:"
MAX_AMOUNT = Decimal("999999999.99")  # the largest SEPA instructed amount
MESSAGE_ID_LENGTH = 30  # Max35Text, less 5 for the payment information block's suffix
CAMT054_VERSIONS = frozenset({"02", "03", "04", "05", "06", "07", "08"})


class SequenceType(StrEnum):
    """Where a collection stands in its mandate (EPC SDD rulebook)."""

    FIRST = "FRST"
    RECURRING = "RCUR"  # also allowed for the first of a recurrent series since 2016
    ONE_OFF = "OOFF"
    FINAL = "FNAL"


# --- Errors ------------------------------------------------------------------------------


class Iso20022Error(ValueError):
    """A file that is not the ISO 20022 document expected, or not readable as one.

    ``line`` and ``element`` locate the problem; ``str(error)`` is the message in the
    active language, for the import page.
    """

    def __init__(
        self,
        message: Any,
        *,
        line: int | None = None,
        element: str | None = None,
        **params: Any,
    ):
        self.template = message
        self.params = params
        self.line = line
        self.element = element
        super().__init__(message)

    @property
    def reason(self) -> str:
        return str(self.template) % self.params if self.params else str(self.template)

    def __str__(self) -> str:
        where = {"line": self.line, "element": self.element, "message": self.reason}
        if self.line is not None and self.element:
            return str(_("Line %(line)s, <%(element)s>: %(message)s")) % where
        if self.line is not None:
            return str(_("Line %(line)s: %(message)s")) % where
        if self.element:
            return str(_("<%(element)s>: %(message)s")) % where
        return self.reason


class Pain008Error(ValueError):
    """A debit (or the creditor) that cannot go into a pain.008 file, and why."""

    def __init__(self, end_to_end_id: str | None, message: Any, **params: Any):
        self.end_to_end_id = end_to_end_id
        self.template = message
        self.params = params
        super().__init__(message)

    @property
    def reason(self) -> str:
        return str(self.template) % self.params if self.params else str(self.template)

    def __str__(self) -> str:
        if self.end_to_end_id is None:
            return str(_("Creditor: %(reason)s")) % {"reason": self.reason}
        return str(_("Debit %(id)s: %(reason)s")) % {
            "id": self.end_to_end_id,
            "reason": self.reason,
        }


# --- Data --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Creditor:
    """Us: the account collected into and the SEPA creditor identifier."""

    name: str
    iban: str
    creditor_id: str  # SEPA creditor identifier, e.g. DE98ZZZ09999999999
    bic: str | None = None


@dataclass(frozen=True, kw_only=True)
class Mandate:
    """The debtor's signed authorisation to debit their account."""

    reference: str  # the unique mandate reference (MndtId)
    signed_on: dt.date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None = None
    sequence_type: SequenceType = SequenceType.RECURRING

    def __post_init__(self):
        object.__setattr__(self, "sequence_type", SequenceType(self.sequence_type))


@dataclass(frozen=True, kw_only=True)
class Debit:
    """One collection under a mandate; ``end_to_end_id`` is the attempt's idempotency key."""

    end_to_end_id: str
    amount: Money
    collection_date: dt.date
    remittance: str
    mandate: Mandate


@dataclass(frozen=True, kw_only=True)
class Pain008Batch:
    """One payment information block: the debits of one sequence type and date."""

    payment_info_id: str
    sequence_type: SequenceType
    collection_date: dt.date
    number_of_transactions: int
    control_sum: Decimal
    debits: tuple[Debit, ...]


@dataclass(frozen=True, kw_only=True)
class Pain008:
    """A direct debit initiation as read back by :func:`read_pain008`."""

    version: str  # e.g. "pain.008.001.08"
    message_id: str
    created_at: str  # as written (ISODateTime)
    number_of_transactions: int
    control_sum: Decimal
    creditor: Creditor
    batches: tuple[Pain008Batch, ...]

    @property
    def debits(self) -> tuple[Debit, ...]:
        return tuple(debit for batch in self.batches for debit in batch.debits)

    def payment_info_id_of(self, end_to_end_id: str) -> str | None:
        for batch in self.batches:
            if any(d.end_to_end_id == end_to_end_id for d in batch.debits):
                return batch.payment_info_id
        return None


@dataclass(frozen=True, kw_only=True)
class DebitStatus:
    """One status line of a pain.002.

    ``level`` is "group" (the whole original message), "payment" (one payment
    information block) or "transaction"; only a transaction line has an
    ``end_to_end_id``. ``status`` is the ISO code: ACTC (technically accepted), ACCP
    (accepted), ACSP (settlement in progress), ACSC (settled), ACWC (accepted with
    change), PART (part of the group accepted), PDNG (pending), RJCT (rejected).
    """

    original_message_id: str
    original_payment_info_id: str | None
    end_to_end_id: str | None
    status: str
    reason_code: str | None
    reason_text: str
    level: str
    amount: Money | None = None
    line: int | None = None

    @property
    def rejected(self) -> bool:
        return self.status == "RJCT"


@dataclass(frozen=True, kw_only=True)
class DebitEntry:
    """One transaction of a camt.054 entry (an entry with no details is one, too).

    ``amount`` is the transaction's own amount; for an entry with a single transaction
    and no amount of its own it is the entry's, and it is None for a batch entry whose
    transactions carry no amounts (``entry_amount`` is always the booked total).
    ``credit_debit`` is "CRDT" or "DBIT" for our account. ``reversal`` is the entry's
    RvslInd (a booking cancelled by the bank); ``return_reason`` is the RtrInf reason
    code of an unpaid or refunded debit (AM04, MD01, MD06...).
    """

    message_id: str
    notification_id: str
    account: str | None
    entry_reference: str | None
    account_servicer_reference: str | None
    end_to_end_id: str | None
    mandate_id: str | None
    uetr: str | None
    amount: Money | None
    entry_amount: Money
    credit_debit: str
    reversal: bool
    status: str | None
    booking_date: dt.date | None
    value_date: dt.date | None
    return_reason: str | None
    return_text: str
    bank_transaction_code: str | None
    line: int | None = None

    @property
    def returned(self) -> bool:
        return self.return_reason is not None


# ISO external status reason codes a SEPA direct debit comes back with (R-transactions).
REASON_TEXTS: Mapping[str, Any] = {
    "AC01": _("The debtor's IBAN is incorrect."),
    "AC04": _("The debtor's account is closed."),
    "AC06": _("The debtor's account is blocked."),
    "AC13": _("The debtor is a consumer; the B2B scheme is not allowed."),
    "AG01": _("Direct debits are not allowed on the debtor's account."),
    "AG02": _("The operation or transaction code is incorrect."),
    "AM04": _("The debtor's account has insufficient funds."),
    "AM05": _("The debit is a duplicate."),
    "BE05": _("The creditor identifier is not recognised."),
    "CNOR": _("The creditor's bank is not registered for SEPA direct debits."),
    "DNOR": _("The debtor's bank is not registered for SEPA direct debits."),
    "FF01": _("The file or transaction is not in a valid format."),
    "MD01": _("There is no valid mandate for this debit."),
    "MD02": _("The mandate data is missing or incorrect."),
    "MD06": _("The debtor asked their bank for a refund."),
    "MD07": _("The debtor has died."),
    "MS02": _("The debtor refused the debit."),
    "MS03": _("The debtor's bank refused the debit (no reason given)."),
    "RC01": _("The BIC is incorrect."),
    "RR01": _("The debtor's account or identification is missing (regulatory)."),
    "RR02": _("The debtor's name or address is missing (regulatory)."),
    "RR03": _("The creditor's name or address is missing (regulatory)."),
    "RR04": _("A regulatory reason."),
    "SL01": _("A specific service of the debtor's bank (e.g. a debit block) applies."),
}


def reason_text(code: str | None) -> str:
    """The wording of an ISO reason code in the active language (the code if unknown)."""
    if not code:
        return ""
    text = REASON_TEXTS.get(code)
    return str(text) if text is not None else code


# --- SEPA text and identifiers ----------------------------------------------------------

# The EPC's Latin character set for SEPA messages; anything else is transliterated
# (unidecode: 张三 → "Zhang San", Müller → "Muller") or replaced by a space.
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SEPA_ID = re.compile(r"^[A-Za-z0-9/\-?:().,'+]+$")


def sepa_text(value: str, limit: int) -> str:
    """``value`` in the SEPA character set, spaces collapsed, at most ``limit`` long."""
    text = _NOT_SEPA.sub(" ", unidecode(str(value)))
    return " ".join(text.split())[:limit].strip()


def sepa_identifier_problem(value: str, *, limit: int = 35) -> str | None:
    """Why ``value`` cannot be a SEPA reference (end-to-end id, mandate reference,
    message id), or None: 1 to ``limit`` characters of the SEPA set, no spaces, not
    starting or ending with "/" and without "//"."""
    if not isinstance(value, str) or not value:
        return str(_("it is empty"))
    if len(value) > limit:
        return str(_("it is longer than %(limit)s characters")) % {"limit": limit}
    if not _SEPA_ID.match(value):
        return str(_("it may hold only letters, digits and / - ? : ( ) . , ' +"))
    if value.startswith("/") or value.endswith("/") or "//" in value:
        return str(_("it must not start or end with “/” or contain “//”"))
    return None


def check_iban(value: str) -> str:
    """The IBAN in its compact form (ValueError with the reason if it is not valid)."""
    try:
        return stdnum_iban.validate(value)
    except StdnumError as exc:
        raise ValueError(str(exc)) from exc


def _check_bic(value: str) -> str:
    try:
        return stdnum_bic.validate(value)
    except StdnumError as exc:
        raise ValueError(str(exc)) from exc


# --- pain.008 out ---------------------------------------------------------------------


def _cents(debit: Debit) -> int:
    amount = debit.amount
    if not isinstance(amount, Money):
        raise Pain008Error(debit.end_to_end_id, _("the amount is not a Money"))
    if amount.currency.code != SEPA_CURRENCY:
        raise Pain008Error(
            debit.end_to_end_id,
            _("the amount is in %(currency)s; SEPA direct debits are in euros only"),
            currency=amount.currency.code,
        )
    value = Decimal(amount.amount)
    if value <= 0 or value > MAX_AMOUNT:
        raise Pain008Error(
            debit.end_to_end_id,
            _("the amount %(amount)s is not between 0.01 and 999999999.99"),
            amount=value,
        )
    if quantize(amount).amount != value:
        raise Pain008Error(
            debit.end_to_end_id, _("the amount %(amount)s has more than 2 decimals"), amount=value
        )
    return int((value * 100).to_integral_exact())


def _check_creditor(creditor: Creditor) -> dict[str, Any]:
    name = sepa_text(creditor.name, 70)
    if not name:
        raise Pain008Error(None, _("the creditor name is empty"))
    try:
        iban = check_iban(creditor.iban)
    except ValueError as exc:
        raise Pain008Error(None, _("the creditor IBAN is not valid: %(why)s"), why=exc) from exc
    try:
        creditor_id = at_02.validate(creditor.creditor_id)
    except StdnumError as exc:
        raise Pain008Error(
            None, _("the SEPA creditor identifier is not valid: %(why)s"), why=exc
        ) from exc
    config: dict[str, Any] = {
        "name": name,
        "IBAN": iban,
        "creditor_id": creditor_id,
        "currency": SEPA_CURRENCY,
        "batch": True,
        "instrument": "CORE",
    }
    if creditor.bic:
        try:
            config["BIC"] = _check_bic(creditor.bic)
        except ValueError as exc:
            raise Pain008Error(None, _("the creditor BIC is not valid: %(why)s"), why=exc) from exc
    return config


def _payment(debit: Debit, created_on: dt.date) -> dict[str, Any]:
    key = debit.end_to_end_id
    problem = sepa_identifier_problem(key)
    if problem:
        raise Pain008Error(key, _("the end-to-end id is not valid: %(why)s"), why=problem)
    cents = _cents(debit)
    mandate = debit.mandate
    problem = sepa_identifier_problem(mandate.reference)
    if problem:
        raise Pain008Error(key, _("the mandate reference is not valid: %(why)s"), why=problem)
    if not isinstance(debit.collection_date, dt.date) or isinstance(
        debit.collection_date, dt.datetime
    ):
        raise Pain008Error(key, _("the collection date is not a date"))
    if not isinstance(mandate.signed_on, dt.date) or isinstance(mandate.signed_on, dt.datetime):
        raise Pain008Error(key, _("the mandate's date of signature is not a date"))
    if debit.collection_date < created_on:
        raise Pain008Error(
            key,
            _("the collection date %(date)s is before the file's creation"),
            date=debit.collection_date.isoformat(),
        )
    if mandate.signed_on > debit.collection_date:
        raise Pain008Error(key, _("the mandate is signed after the collection date"))
    name = sepa_text(mandate.debtor_name, 70)
    if not name:
        raise Pain008Error(key, _("the debtor name is empty"))
    try:
        iban = check_iban(mandate.debtor_iban)
    except ValueError as exc:
        raise Pain008Error(key, _("the debtor IBAN is not valid: %(why)s"), why=exc) from exc
    payment: dict[str, Any] = {
        "name": name,
        "IBAN": iban,
        "amount": cents,
        "type": SequenceType(mandate.sequence_type).value,
        "collection_date": debit.collection_date,
        "mandate_id": mandate.reference,
        "mandate_date": mandate.signed_on,
        "description": sepa_text(debit.remittance, 140) or key,
        "endtoend_id": key,
    }
    if mandate.debtor_bic:
        try:
            payment["BIC"] = _check_bic(mandate.debtor_bic)
        except ValueError as exc:
            raise Pain008Error(key, _("the debtor BIC is not valid: %(why)s"), why=exc) from exc
    return payment


def build_pain008(
    creditor: Creditor,
    debits: Sequence[Debit],
    *,
    message_id: str,
    created_at: dt.datetime,
) -> bytes:
    """A pain.008.001.08 file collecting ``debits`` into ``creditor``'s account.

    Debits are grouped into one payment information block per collection date and
    sequence type (the scheme's rule), in date then sequence order; a block's id is
    ``<message_id>-P001``, ``-P002``... so a status report naming the block can be
    traced (:func:`read_pain008`). Amounts go in exactly (cents as integers, never a
    float); the file is validated against the pain.008.001.08 schema.

    Raises :class:`Pain008Error` (a ValueError) naming the debit and the reason: a
    currency other than EUR, an invalid IBAN/BIC, a bad mandate reference or
    end-to-end id, a duplicate end-to-end id, a collection date in the past.
    """
    problem = sepa_identifier_problem(message_id, limit=MESSAGE_ID_LENGTH)
    if problem:
        raise ValueError(f"message id {message_id!r} is not valid: {problem}")
    if not isinstance(created_at, dt.datetime):
        raise TypeError("created_at must be a datetime")
    if not debits:
        raise ValueError("a pain.008 file needs at least one debit")
    config = _check_creditor(creditor)
    seen: set[str] = set()
    payments = []
    for debit in debits:
        if debit.end_to_end_id in seen:
            raise Pain008Error(debit.end_to_end_id, _("the end-to-end id appears twice"))
        seen.add(debit.end_to_end_id)
        payments.append(_payment(debit, created_at.date()))
    payments.sort(key=lambda p: (p["collection_date"], p["type"]))

    document = SepaDD(config, schema=PAIN008_VERSION, clean=False)
    for payment in payments:
        document.add_payment(payment)
    raw = document.export(validate=False)

    # sepaxml stamps a random message id, the local time and random block ids: put
    # ours in, so the same batch always gives the same file.
    root = parse_xml(raw)
    ns = {"p": root.nsmap[None]}
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", ns)
    header.find("p:MsgId", ns).text = message_id
    header.find("p:CreDtTm", ns).text = created_at.replace(microsecond=0).isoformat()
    for index, block in enumerate(root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", ns), 1):
        block.find("p:PmtInfId", ns).text = f"{message_id}-P{index:03d}"
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    try:
        try_valid_xml(data, PAIN008_VERSION)
    except SepaValidationError as exc:
        raise ValueError(f"the pain.008 file does not match its schema: {exc.__cause__}") from exc
    return data


# --- Reading -------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


# A DOCTYPE (in UTF-8/ASCII or UTF-16) is refused before parsing: it is how entity
# expansion ("billion laughs") and external entities start, and no ISO 20022 file has one.
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_DOCTYPE_REFUSED = _("The file declares a DOCTYPE; ISO 20022 files have none, so it is refused.")


def _line_of(data: bytes, markers: tuple[bytes, ...]) -> int:
    position = min(data.find(m) for m in markers if m in data)
    return data[:position].count(b"\n") + 1


def parse_xml(data: bytes | str) -> etree._Element:
    """An ISO 20022 file parsed safely: no DTD, no entities, no network; refused with
    the line when it declares a DOCTYPE or is not well-formed. Statement readers of
    other apps use it too."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes | bytearray) or not data.strip():
        raise Iso20022Error(_("The file is empty."))
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        raise Iso20022Error(_DOCTYPE_REFUSED, line=_line_of(bytes(data), _DOCTYPE_MARKERS))
    try:
        root = etree.fromstring(bytes(data), _parser())
    except etree.XMLSyntaxError as exc:
        raise Iso20022Error(
            _("The file is not well-formed XML: %(error)s"), line=exc.lineno, error=exc.msg
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise Iso20022Error(_DOCTYPE_REFUSED, line=1)
    return root


class _Doc:
    """A parsed ISO 20022 document: namespace-aware lookups with line numbers."""

    def __init__(self, data: bytes | str, family: str, versions: Iterable[str] | None = None):
        root = parse_xml(data)
        tag = etree.QName(root)
        match = re.fullmatch(
            re.escape(ISO_NS) + r"([a-z]{4}\.\d{3})\.(\d{3})\.(\d{2})", tag.namespace or ""
        )
        if tag.localname != "Document" or match is None or match.group(1) != family:
            raise Iso20022Error(
                _("Expected a %(family)s document, found <%(tag)s> in namespace “%(ns)s”."),
                line=root.sourceline,
                family=family,
                tag=tag.localname,
                ns=tag.namespace or "",
            )
        self.version = f"{match.group(1)}.{match.group(2)}.{match.group(3)}"
        if versions is not None and match.group(3) not in versions:
            raise Iso20022Error(
                _("%(version)s is not a supported version."),
                line=root.sourceline,
                version=self.version,
            )
        self.root = root
        self.ns = {"x": tag.namespace}

    @staticmethod
    def _path(path: str) -> str:
        return "/".join(step if step in (".", "..") else f"x:{step}" for step in path.split("/"))

    def find(self, element: etree._Element, path: str) -> etree._Element | None:
        return element.find(self._path(path), self.ns)

    def findall(self, element: etree._Element, path: str) -> list[etree._Element]:
        return element.findall(self._path(path), self.ns)

    def text(self, element: etree._Element, path: str) -> str | None:
        found = self.find(element, path)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def required(self, element: etree._Element, path: str) -> str:
        value = self.text(element, path)
        if value is None:
            raise Iso20022Error(
                _("The required element <%(path)s> is missing or empty."),
                line=element.sourceline,
                element=etree.QName(element).localname,
                path=path,
            )
        return value

    def texts(self, element: etree._Element, path: str) -> list[str]:
        return [e.text.strip() for e in self.findall(element, path) if e.text and e.text.strip()]

    def money(self, element: etree._Element, path: str) -> Money | None:
        found = self.find(element, path)
        if found is None:
            return None
        return _money_of(found)

    def decimal(self, element: etree._Element, path: str) -> Decimal | None:
        found = self.find(element, path)
        if found is None:
            return None
        return _decimal_of(found)

    def date(self, element: etree._Element, path: str) -> dt.date | None:
        """A date from ``path``'s <Dt>, or the date part of its <DtTm>."""
        found = self.find(element, path)
        if found is None:
            return None
        for child, parse in (("Dt", dt.date.fromisoformat), ("DtTm", dt.datetime.fromisoformat)):
            node = self.find(found, child)
            if node is not None:
                return _date_of(node, parse)
        if found.text and found.text.strip():  # a bare ISODate (ReqdColltnDt, DtOfSgntr)
            return _date_of(found, dt.date.fromisoformat)
        return None

    def required_date(self, element: etree._Element, path: str) -> dt.date:
        value = self.date(element, path)
        if value is None:
            self.required(element, path)  # raises: missing or empty
            raise Iso20022Error(
                _("The element <%(path)s> holds no date."),
                line=element.sourceline,
                element=etree.QName(element).localname,
                path=path,
            )
        return value


def _decimal_of(node: etree._Element) -> Decimal:
    text = (node.text or "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not re.fullmatch(r"\d+(\.\d+)?", text):
        raise Iso20022Error(
            _("“%(value)s” is not an amount."),
            line=node.sourceline,
            element=etree.QName(node).localname,
            value=text,
        )
    return value


def _money_of(node: etree._Element) -> Money:
    value = _decimal_of(node)
    currency = (node.get("Ccy") or "").strip()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise Iso20022Error(
            _("The amount has no valid currency (Ccy=“%(currency)s”)."),
            line=node.sourceline,
            element=etree.QName(node).localname,
            currency=currency,
        )
    money = Money(value, currency)
    if quantize(money).amount != value:
        raise Iso20022Error(
            _("%(amount)s has more decimals than %(currency)s allows."),
            line=node.sourceline,
            element=etree.QName(node).localname,
            amount=value,
            currency=currency,
        )
    return quantize(money)


def _date_of(node: etree._Element, parse) -> dt.date:
    text = (node.text or "").strip()
    try:
        value = parse(text)
    except ValueError:
        raise Iso20022Error(
            _("“%(value)s” is not a date."),
            line=node.sourceline,
            element=etree.QName(node).localname,
            value=text,
        ) from None
    return value.date() if isinstance(value, dt.datetime) else value


def _count_of(doc: _Doc, element: etree._Element, path: str) -> int | None:
    text = doc.text(element, path)
    if text is None:
        return None
    if not text.isdigit():
        raise Iso20022Error(
            _("“%(value)s” is not a number of transactions."),
            line=doc.find(element, path).sourceline,
            element=path.rsplit("/", 1)[-1],
            value=text,
        )
    return int(text)


def _agent_bic(doc: _Doc, agent: etree._Element | None) -> str | None:
    if agent is None:
        return None
    return doc.text(agent, "FinInstnId/BICFI") or doc.text(agent, "FinInstnId/BIC")


# --- pain.008 in (our own files, read back) -----------------------------------------------


def read_pain008(data: bytes) -> Pain008:
    """Read a pain.008 (any version): header, payment information blocks, debits.

    The numbers of transactions and control sums are checked against the debits
    (:class:`Iso20022Error` if they disagree), so a file read here adds up.
    """
    doc = _Doc(data, "pain.008")
    initiation = doc.find(doc.root, "CstmrDrctDbtInitn")
    if initiation is None:
        raise Iso20022Error(
            _("The required element <%(path)s> is missing or empty."),
            line=doc.root.sourceline,
            element="Document",
            path="CstmrDrctDbtInitn",
        )
    header = doc.find(initiation, "GrpHdr")
    if header is None:
        raise Iso20022Error(
            _("The required element <%(path)s> is missing or empty."),
            line=initiation.sourceline,
            element="CstmrDrctDbtInitn",
            path="GrpHdr",
        )
    batches = []
    creditor = None
    for block in doc.findall(initiation, "PmtInf"):
        sequence = doc.required(block, "PmtTpInf/SeqTp")
        try:
            sequence_type = SequenceType(sequence)
        except ValueError:
            raise Iso20022Error(
                _("“%(value)s” is not a sequence type."),
                line=doc.find(block, "PmtTpInf/SeqTp").sourceline,
                element="SeqTp",
                value=sequence,
            ) from None
        collection_date = doc.required_date(block, "ReqdColltnDt")
        block_creditor = Creditor(
            name=doc.required(block, "Cdtr/Nm"),
            iban=doc.required(block, "CdtrAcct/Id/IBAN"),
            bic=_agent_bic(doc, doc.find(block, "CdtrAgt")),
            creditor_id=doc.required(block, "CdtrSchmeId/Id/PrvtId/Othr/Id"),
        )
        creditor = creditor or block_creditor
        debits = []
        for tx in doc.findall(block, "DrctDbtTxInf"):
            amount_node = doc.find(tx, "InstdAmt")
            if amount_node is None:
                doc.required(tx, "InstdAmt")
            debtor_bic = _agent_bic(doc, doc.find(tx, "DbtrAgt"))
            mandate = Mandate(
                reference=doc.required(tx, "DrctDbtTx/MndtRltdInf/MndtId"),
                signed_on=doc.required_date(tx, "DrctDbtTx/MndtRltdInf/DtOfSgntr"),
                debtor_name=doc.required(tx, "Dbtr/Nm"),
                debtor_iban=doc.required(tx, "DbtrAcct/Id/IBAN"),
                debtor_bic=debtor_bic,
                sequence_type=sequence_type,
            )
            debits.append(
                Debit(
                    end_to_end_id=doc.required(tx, "PmtId/EndToEndId"),
                    amount=_money_of(amount_node),
                    collection_date=collection_date,
                    remittance=" ".join(doc.texts(tx, "RmtInf/Ustrd")),
                    mandate=mandate,
                )
            )
        total = sum((d.amount.amount for d in debits), Decimal(0))
        _check_totals(doc, block, len(debits), total)
        batches.append(
            Pain008Batch(
                payment_info_id=doc.required(block, "PmtInfId"),
                sequence_type=sequence_type,
                collection_date=collection_date,
                number_of_transactions=len(debits),
                control_sum=total,
                debits=tuple(debits),
            )
        )
    count = sum(b.number_of_transactions for b in batches)
    total = sum((b.control_sum for b in batches), Decimal(0))
    _check_totals(doc, header, count, total)
    if creditor is None:
        raise Iso20022Error(
            _("The required element <%(path)s> is missing or empty."),
            line=initiation.sourceline,
            element="CstmrDrctDbtInitn",
            path="PmtInf",
        )
    return Pain008(
        version=doc.version,
        message_id=doc.required(header, "MsgId"),
        created_at=doc.required(header, "CreDtTm"),
        number_of_transactions=count,
        control_sum=total,
        creditor=creditor,
        batches=tuple(batches),
    )


def _check_totals(doc: _Doc, element: etree._Element, count: int, total: Decimal) -> None:
    stated = _count_of(doc, element, "NbOfTxs")
    if stated is not None and stated != count:
        raise Iso20022Error(
            _("NbOfTxs says %(stated)s transactions, the file holds %(count)s."),
            line=doc.find(element, "NbOfTxs").sourceline,
            element="NbOfTxs",
            stated=stated,
            count=count,
        )
    control = doc.decimal(element, "CtrlSum")
    if control is not None and control != total:
        raise Iso20022Error(
            _("CtrlSum says %(stated)s, the amounts add up to %(total)s."),
            line=doc.find(element, "CtrlSum").sourceline,
            element="CtrlSum",
            stated=control,
            total=total,
        )


# --- pain.002 in -----------------------------------------------------------------------


def _reason(doc: _Doc, element: etree._Element) -> tuple[str | None, str]:
    """The first StsRsnInf's code (Cd or Prtry) and all its AddtlInf lines."""
    for info in doc.findall(element, "StsRsnInf"):
        code = doc.text(info, "Rsn/Cd") or doc.text(info, "Rsn/Prtry")
        text = " ".join(doc.texts(info, "AddtlInf"))
        if code or text:
            return code, text
    return None, ""


def read_pain002(data: bytes) -> list[DebitStatus]:
    """The status lines of a Customer Payment Status Report, in file order.

    A group status (GrpSts) gives a "group" line, a payment information status
    (PmtInfSts) a "payment" line, each TxInfAndSts a "transaction" line: a file that
    rejects the whole message may hold only the group line. Use
    :func:`resolve_statuses` for one status per debit.
    """
    doc = _Doc(data, "pain.002")
    report = doc.find(doc.root, "CstmrPmtStsRpt")
    if report is None:
        raise Iso20022Error(
            _("The required element <%(path)s> is missing or empty."),
            line=doc.root.sourceline,
            element="Document",
            path="CstmrPmtStsRpt",
        )
    group = doc.find(report, "OrgnlGrpInfAndSts")
    if group is None:
        raise Iso20022Error(
            _("The required element <%(path)s> is missing or empty."),
            line=report.sourceline,
            element="CstmrPmtStsRpt",
            path="OrgnlGrpInfAndSts",
        )
    message_id = doc.required(group, "OrgnlMsgId")
    statuses = []
    group_status = doc.text(group, "GrpSts")
    if group_status:
        code, text = _reason(doc, group)
        statuses.append(
            DebitStatus(
                original_message_id=message_id,
                original_payment_info_id=None,
                end_to_end_id=None,
                status=group_status,
                reason_code=code,
                reason_text=text,
                level="group",
                line=doc.find(group, "GrpSts").sourceline,
            )
        )
    for block in doc.findall(report, "OrgnlPmtInfAndSts"):
        block_id = doc.required(block, "OrgnlPmtInfId")
        block_status = doc.text(block, "PmtInfSts")
        if block_status:
            code, text = _reason(doc, block)
            statuses.append(
                DebitStatus(
                    original_message_id=message_id,
                    original_payment_info_id=block_id,
                    end_to_end_id=None,
                    status=block_status,
                    reason_code=code,
                    reason_text=text,
                    level="payment",
                    line=doc.find(block, "PmtInfSts").sourceline,
                )
            )
        for tx in doc.findall(block, "TxInfAndSts"):
            code, text = _reason(doc, tx)
            status = doc.text(tx, "TxSts") or block_status or group_status
            if status is None:
                doc.required(tx, "TxSts")
            amount = doc.money(tx, "OrgnlTxRef/Amt/InstdAmt")
            statuses.append(
                DebitStatus(
                    original_message_id=message_id,
                    original_payment_info_id=block_id,
                    end_to_end_id=doc.required(tx, "OrgnlEndToEndId"),
                    status=status,
                    reason_code=code,
                    reason_text=text,
                    level="transaction",
                    amount=amount,
                    line=tx.sourceline,
                )
            )
    return statuses


def resolve_statuses(
    statuses: Sequence[DebitStatus], initiation: Pain008
) -> dict[str, DebitStatus]:
    """One status per end-to-end id of ``initiation`` that the report decides.

    A transaction line decides its debit. A debit without one takes its payment
    information block's status, else the group's. PART ("some accepted") at a level
    means the debits listed are the exceptions and the others are accepted (ACCP). A
    debit that nothing decides is left out (ask the bank). Lines for another message
    are ignored.
    """
    own = [s for s in statuses if s.original_message_id == initiation.message_id]
    group = next((s for s in own if s.level == "group"), None)
    blocks = {s.original_payment_info_id: s for s in own if s.level == "payment"}
    transactions = {s.end_to_end_id: s for s in own if s.level == "transaction"}
    resolved = {}
    for batch in initiation.batches:
        for debit in batch.debits:
            key = debit.end_to_end_id
            status = transactions.get(key) or blocks.get(batch.payment_info_id) or group
            if status is None:
                continue
            if status.level != "transaction":
                implied = "ACCP" if status.status == "PART" else status.status
                status = DebitStatus(
                    original_message_id=status.original_message_id,
                    original_payment_info_id=batch.payment_info_id,
                    end_to_end_id=key,
                    status=implied,
                    reason_code=status.reason_code if implied == status.status else None,
                    reason_text=status.reason_text if implied == status.status else "",
                    level=status.level,
                    amount=debit.amount,
                    line=status.line,
                )
            resolved[key] = status
    return resolved


# --- camt.054 in -------------------------------------------------------------------------


def _bank_transaction_code(doc: _Doc, element: etree._Element) -> str | None:
    domain = doc.text(element, "BkTxCd/Domn/Cd")
    family = doc.text(element, "BkTxCd/Domn/Fmly/Cd")
    sub = doc.text(element, "BkTxCd/Domn/Fmly/SubFmlyCd")
    if domain:
        return "/".join(part for part in (domain, family, sub) if part)
    return doc.text(element, "BkTxCd/Prtry/Cd")


def _indicator(doc: _Doc, element: etree._Element, path: str) -> str | None:
    value = doc.text(element, path)
    if value is not None and value not in ("CRDT", "DBIT"):
        raise Iso20022Error(
            _("“%(value)s” is not CRDT or DBIT."),
            line=doc.find(element, path).sourceline,
            element="CdtDbtInd",
            value=value,
        )
    return value


def _boolean(doc: _Doc, element: etree._Element, path: str) -> bool:
    value = doc.text(element, path)
    if value is None:
        return False
    if value not in ("true", "false", "1", "0"):
        raise Iso20022Error(
            _("“%(value)s” is not true or false."),
            line=doc.find(element, path).sourceline,
            element=path.rsplit("/", 1)[-1],
            value=value,
        )
    return value in ("true", "1")


def _known(value: str | None) -> str | None:
    return None if value is None or value.upper() == "NOTPROVIDED" else value


def read_camt054(data: bytes) -> list[DebitEntry]:
    """Every transaction of every entry of a camt.054.001.02 to .08, in file order."""
    doc = _Doc(data, "camt.054", CAMT054_VERSIONS)
    message = doc.find(doc.root, "BkToCstmrDbtCdtNtfctn")
    if message is None:
        raise Iso20022Error(
            _("The required element <%(path)s> is missing or empty."),
            line=doc.root.sourceline,
            element="Document",
            path="BkToCstmrDbtCdtNtfctn",
        )
    message_id = doc.required(message, "GrpHdr/MsgId")
    entries = []
    for notification in doc.findall(message, "Ntfctn"):
        notification_id = doc.required(notification, "Id")
        account = doc.text(notification, "Acct/Id/IBAN") or doc.text(
            notification, "Acct/Id/Othr/Id"
        )
        for entry in doc.findall(notification, "Ntry"):
            entry_amount = doc.money(entry, "Amt")
            if entry_amount is None:
                doc.required(entry, "Amt")
            indicator = _indicator(doc, entry, "CdtDbtInd") or doc.required(entry, "CdtDbtInd")
            common = {
                "message_id": message_id,
                "notification_id": notification_id,
                "account": account,
                "entry_reference": doc.text(entry, "NtryRef"),
                "entry_amount": entry_amount,
                "reversal": _boolean(doc, entry, "RvslInd"),
                "status": doc.text(entry, "Sts/Cd") or doc.text(entry, "Sts"),
                "booking_date": doc.date(entry, "BookgDt"),
                "value_date": doc.date(entry, "ValDt"),
            }
            entry_reference = doc.text(entry, "AcctSvcrRef")
            entry_code = _bank_transaction_code(doc, entry)
            details = doc.findall(entry, "NtryDtls/TxDtls")
            if not details:
                entries.append(
                    DebitEntry(
                        **common,
                        account_servicer_reference=entry_reference,
                        end_to_end_id=None,
                        mandate_id=None,
                        uetr=None,
                        amount=entry_amount,
                        credit_debit=indicator,
                        return_reason=None,
                        return_text="",
                        bank_transaction_code=entry_code,
                        line=entry.sourceline,
                    )
                )
                continue
            for tx in details:
                amount = doc.money(tx, "Amt") or doc.money(tx, "AmtDtls/TxAmt/Amt")
                if amount is None and len(details) == 1:
                    amount = entry_amount
                return_reason = doc.text(tx, "RtrInf/Rsn/Cd") or doc.text(tx, "RtrInf/Rsn/Prtry")
                entries.append(
                    DebitEntry(
                        **common,
                        account_servicer_reference=doc.text(tx, "Refs/AcctSvcrRef")
                        or entry_reference,
                        end_to_end_id=_known(doc.text(tx, "Refs/EndToEndId")),
                        mandate_id=_known(doc.text(tx, "Refs/MndtId")),
                        uetr=doc.text(tx, "Refs/UETR"),
                        amount=amount,
                        credit_debit=_indicator(doc, tx, "CdtDbtInd") or indicator,
                        return_reason=return_reason,
                        return_text=" ".join(doc.texts(tx, "RtrInf/AddtlInf")),
                        bank_transaction_code=_bank_transaction_code(doc, tx) or entry_code,
                        line=tx.sourceline,
                    )
                )
    return entries
