"""Remittance references: what a customer types into the bank's "附言/用途" field.

``FM-7K3Q-9XHT-A2BC-D``: the prefix, twelve data characters in groups of four and one
check character. The alphabet is the 32 digits and capitals that cannot be misread
for one another (no 0/O, no 1/I), so every character carries five bits: 60 bits of
the idempotency key's SHA-256. A reference is a pure function of the key, so a retry
of the same attempt shows the customer the same reference, and two keys share one
only by a hash collision (about 1 in 2.3 million at one million charges; the unique
provider reference of a payment turns that into an error, never a misapplied payment).

The check character is Damm's algorithm over GF(32): a totally anti-symmetric
quasigroup, so it catches every single-character substitution and every transposition
of two adjacent characters (the check character included), the two errors people make
copying a code. :func:`parse_remittance_reference` is the entry point reconciliation
uses to find a reference in a bank statement line's narrative.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = [
    "ALPHABET",
    "PREFIX",
    "check_character",
    "is_valid_reference",
    "parse_remittance_reference",
    "remittance_reference",
]

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX = "FM"
DATA_LENGTH = 12
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_DOMAIN = b"feemgmt/bank_transfer/remittance-reference/v1\x00"

# GF(2^5) with the primitive polynomial x^5 + x^2 + 1. Damm's quasigroup is
# x * y = A·x + y with A not 0 or 1: then (c*x)*y == (c*y)*x only when x == y.
_POLY = 0b100101
_A = 0b00010


def _gf_mul(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _POLY
    return product


_TIMES_A = tuple(_gf_mul(_A, x) for x in range(32))


def _fold(chars: str) -> int:
    interim = 0
    for char in chars:
        interim = _TIMES_A[interim] ^ _VALUE[char]
    return interim


def check_character(data: str) -> str:
    """The character that folds ``data`` to zero (``A·interim + c == 0`` in GF(32))."""
    return ALPHABET[_TIMES_A[_fold(data)]]


def is_valid_reference(code: str) -> bool:
    """Whether ``code`` (data and check characters, no prefix or dashes) checks out."""
    return len(code) == DATA_LENGTH + 1 and all(c in _VALUE for c in code) and _fold(code) == 0


def _format(code: str) -> str:
    groups = [code[i : i + 4] for i in range(0, DATA_LENGTH, 4)]
    return "-".join([PREFIX, *groups, code[DATA_LENGTH:]])


def remittance_reference(idempotency_key: str) -> str:
    """The remittance reference for an attempt, e.g. ``FM-7K3Q-9XHT-A2BC-D``."""
    if not isinstance(idempotency_key, str) or not idempotency_key:
        raise ValueError("an idempotency key is needed")
    digest = int.from_bytes(hashlib.sha256(_DOMAIN + idempotency_key.encode()).digest(), "big")
    bits = digest >> (256 - 5 * DATA_LENGTH)
    data = "".join(ALPHABET[(bits >> (5 * (DATA_LENGTH - 1 - i))) & 31] for i in range(DATA_LENGTH))
    return _format(data + check_character(data))


# Between characters a person or a bank may put spaces, line breaks or dashes.
_SEPARATORS = r"[\s\-_.·\u2010-\u2015\u2212]*"
_CHAR = f"[{ALPHABET}]"
_CANDIDATE = re.compile(
    rf"(?<![A-Z0-9])F{_SEPARATORS}M{_SEPARATORS}((?:{_CHAR}{_SEPARATORS}){{{DATA_LENGTH}}}{_CHAR})"
    r"(?![A-Z0-9])"
)


def parse_remittance_reference(text: str) -> str | None:
    """The first valid remittance reference in ``text``, formatted, else None.

    Statement narratives are messy: the text is NFKC-normalised (full-width letters,
    digits and dashes become ASCII) and upper-cased, and spaces, line breaks and
    dashes between characters are ignored. A candidate whose check character is wrong
    is rejected: it is a typo, and reconciliation leaves such a line to a person.
    """
    if not text:
        return None
    normalised = unicodedata.normalize("NFKC", str(text)).upper()
    position = 0
    while match := _CANDIDATE.search(normalised, position):
        code = re.sub(_SEPARATORS, "", match.group(1))
        if is_valid_reference(code):
            return _format(code)
        position = match.start() + 1
    return None
