"""Rule-based PII detection and redaction.

Each detector is a pattern that finds candidates and, where the format has one, a checksum
or range check that confirms them, so ordinary numbers are not flagged:

- ``email``: local part, ``@``, a dotted domain with a 2+ letter top level;
- ``phone``: North-American style ``(555) 123-4567`` / ``555-123-4567`` / ``555.123.4567``
  (separators required: a bare 10-digit number is not a phone number by itself), with an
  optional ``+country`` prefix, or international ``+`` numbers of 8 to 15 digits;
- ``credit_card``: 13 to 19 digits (spaces or dashes allowed between them) starting with
  3-6 (the major networks' ranges) and passing the Luhn check;
- ``iban``: country code, check digits and up to 30 letters or digits (groups of four may
  be spaced), 15 to 34 characters, passing the ISO 7064 mod-97 check;
- ``ssn``: US social security numbers ``AAA-GG-SSSS`` (dashes required) outside the
  never-issued ranges (area 000, 666, 900-999; group 00; serial 0000);
- ``ipv4`` / ``ipv6``: addresses that :mod:`ipaddress` accepts (so ``999.1.1.1`` and times
  like ``12:30:45`` are not addresses).

Overlapping candidates keep the earliest, then the longest. Redaction replaces each match
with a typed placeholder (``[EMAIL]``, ``[PHONE]``, ``[CREDIT_CARD]``, ``[IBAN]``,
``[SSN]``, ``[IP_ADDRESS]``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

__all__ = [
    "PII_KINDS",
    "PLACEHOLDERS",
    "PiiMatch",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "redact",
]


class PiiMatch(NamedTuple):
    kind: str
    start: int
    end: int
    text: str


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum: double every second digit from the right; the sum ends in 0."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616 IBAN check: move the first four characters to the end, letters to
    numbers (A=10 ... Z=35), and the number mod 97 must be 1."""
    text = candidate.replace(" ", "").upper()
    if not 15 <= len(text) <= 34 or not text.isalnum():
        return False
    rearranged = text[4:] + text[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn_valid(digits)


def _address(
    kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address],
) -> Callable[[str], bool]:
    def valid(text: str) -> bool:
        try:
            kind(text)
        except ValueError:
            return False
        return True

    return valid


def _international(text: str) -> bool:
    return 8 <= sum(c.isdigit() for c in text) <= 15


def _ipv6(text: str) -> bool:
    return any(c not in ":" for c in text) and _address(ipaddress.IPv6Address)(text)


_Detector = tuple[str, "re.Pattern[str]", Callable[[str], bool] | None]

_DETECTORS: tuple[_Detector, ...] = (
    (
        "email",
        re.compile(
            r"(?<![\w.+%-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
        ),
        None,
    ),
    (
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
        iban_valid,
    ),
    ("credit_card", re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _card),
    (
        "ssn",
        re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"),
        None,
    ),
    (
        "phone",
        re.compile(
            r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\d-])"
        ),
        None,
    ),
    ("phone", re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\d{2,4}){2,5}(?!\d)"), _international),
    (
        "ipv4",
        re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)"),
        _address(ipaddress.IPv4Address),
    ),
    ("ipv6", re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"), _ipv6),
)

PII_KINDS: tuple[str, ...] = tuple(dict.fromkeys(kind for kind, _, _ in _DETECTORS))
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "credit_card": "[CREDIT_CARD]",
    "iban": "[IBAN]",
    "ssn": "[SSN]",
    "ipv4": "[IP_ADDRESS]",
    "ipv6": "[IP_ADDRESS]",
}


def find_pii(text: str, kinds: Iterable[str] = PII_KINDS) -> list[PiiMatch]:
    """Confirmed PII matches of the given kinds, non-overlapping, in text order."""
    wanted = set(kinds)
    candidates: list[PiiMatch] = []
    for kind, pattern, confirm in _DETECTORS:
        if kind not in wanted:
            continue
        for match in pattern.finditer(text):
            if confirm is None or confirm(match.group()):
                candidates.append(PiiMatch(kind, match.start(), match.end(), match.group()))
    candidates.sort(key=lambda m: (m.start, m.start - m.end))
    kept: list[PiiMatch] = []
    for candidate in candidates:
        if not kept or candidate.start >= kept[-1].end:
            kept.append(candidate)
    return kept


def redact(text: str, matches: Iterable[PiiMatch]) -> str:
    """``text`` with each match replaced by its kind's placeholder."""
    pieces: list[str] = []
    cursor = 0
    for match in sorted(matches, key=lambda m: m.start):
        pieces.append(text[cursor : match.start])
        pieces.append(PLACEHOLDERS[match.kind])
        cursor = match.end
    pieces.append(text[cursor:])
    return "".join(pieces)
