"""Statement parsers: every format a receiving account or gateway reports in, read
into one shape (:mod:`reconciliation.parsers.base`).

:func:`detect_format` tells the format from the bytes (and the file name, as a
tie-breaker only), and :func:`parse_statement` reads a movement format. The direct
debit replies (camt.054, pain.002) are read by the direct-debit adapter, which knows
the debits they answer.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from .base import LineKind, ParsedFile, ParsedLine, ParsedSection, StatementParseError

__all__ = [
    "FORMATS",
    "LineKind",
    "ParsedFile",
    "ParsedLine",
    "ParsedSection",
    "StatementParseError",
    "detect_format",
    "parse_statement",
]

FORMATS = ("csv", "xlsx", "xls", "mt940", "camt053", "camt054", "pain002", "alipay", "wechat")

_ISO20022 = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:(camt\.053|camt\.054|pain\.002)\.")
_MT940 = re.compile(rb"(^|[\r\n{:]):?20:.*?[\r\n]+:25:", re.DOTALL)


def detect_format(data: bytes, filename: str = "") -> str:
    """The format of a statement file, from its content."""
    from .gateway_bills import looks_like_alipay_bill, looks_like_wechat_bill

    if not data.strip():
        raise StatementParseError(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return "wechat" if looks_like_wechat_bill(data) else "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    head = data[:8192]
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith(b"<"):
        found = _ISO20022.search(head)
        if found is None:
            raise StatementParseError(
                _("An XML file, but not an ISO 20022 camt.053, camt.054 or pain.002 message.")
            )
        return found.group(1).replace(b".", b"").decode()
    if b":61:" in data or b":60F:" in head or _MT940.search(head):
        return "mt940"
    if looks_like_alipay_bill(data):
        return "alipay"
    if looks_like_wechat_bill(data):
        return "wechat"
    return "csv"


def parse_statement(data: bytes, *, format: str, filename: str = "", mapping=None) -> ParsedFile:
    """Read a movement statement in ``format`` (see :data:`FORMATS`)."""
    if format in ("csv", "xlsx", "xls"):
        from .tabular import parse_tabular

        return parse_tabular(data, filename=filename, mapping=mapping, kind=format)
    if format == "mt940":
        from .mt940 import parse_mt940

        return parse_mt940(data)
    if format == "camt053":
        from .camt053 import parse_camt053

        return parse_camt053(data)
    if format == "alipay":
        from .gateway_bills import parse_alipay_bill

        return parse_alipay_bill(data)
    if format == "wechat":
        from .gateway_bills import parse_wechat_bill

        return parse_wechat_bill(data)
    raise StatementParseError(_("Unknown statement format %(format)r.") % {"format": format})
