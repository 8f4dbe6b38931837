"""Turn an uploaded text export into ``str`` without asking the user its encoding.

Chinese banks and gateways write UTF-8 (with or without a BOM), UTF-16 (Excel's
"Unicode text") or GBK. Strict decodes are tried first, in an order where an
earlier success cannot be a false positive of a later one: a BOM is unambiguous,
valid UTF-8 is almost never accidental for non-ASCII text, and GB18030 (the
superset of GBK and GB2312, so one decoder reads all three) comes last because it
accepts many byte sequences. Only when all of them fail is a statistical guess
(charset-normalizer) allowed to decide.
"""

from __future__ import annotations

import codecs

from django.utils.translation import gettext as _

from .base import StatementParseError

__all__ = ["decode_bytes", "decode_prefix"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(data: bytes) -> str | None:
    """Excel and some bank tools write UTF-16 without a BOM; mostly-ASCII text then
    has a NUL in every other byte, which no GBK or UTF-8 export contains."""
    sample = data[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    return "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"


def _strict_decode(data: bytes) -> tuple[str, str] | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name).lstrip("\ufeff"), name
            except UnicodeDecodeError:
                break
    candidates = ["utf-8"]
    utf16 = _utf16_without_bom(data)
    if utf16:
        candidates.insert(0, utf16)
    candidates.append("gb18030")
    for name in candidates:
        try:
            return data.decode(name).lstrip("\ufeff"), name
        except UnicodeDecodeError:
            continue
    return None


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)``; a leading BOM is never part of ``text``."""
    strict = _strict_decode(data)
    if strict is not None:
        return strict
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise StatementParseError(
            _("The file is not text in any encoding we know (UTF-8, UTF-16, GBK/GB18030).")
        )
    return str(best).lstrip("\ufeff"), best.encoding


def decode_prefix(data: bytes, limit: int = 16384) -> str:
    """Decode the start of a file for sniffing. Cutting at ``limit`` may split a
    multi-byte character, so a few shorter cuts are tried before giving up."""
    if len(data) <= limit:
        try:
            return decode_bytes(data)[0]
        except StatementParseError:
            return ""
    for cut in range(limit, limit - 4, -1):
        strict = _strict_decode(data[:cut])
        if strict is not None:
            return strict[0]
    try:
        return decode_bytes(data[:limit])[0]
    except StatementParseError:
        return ""
