"""PII detection and scrubbing with typed placeholders.

Detected values are replaced with ``<EMAIL>``, ``<PHONE>``, ``<CREDIT_CARD>``, ``<IBAN>``, ``<IP_ADDRESS>``,
``<SECRET>`` or ``<US_SSN>``; the rest of the text is left exactly as it was.

Why not Presidio: its analyzer needs a spaCy language model (``en_core_web_lg``) that is downloaded at run time, and
this platform installs nothing at run time (no hub, no network). The recognizers here are regular expressions
followed by validators, which is what Presidio's pattern recognizers do for these types anyway:

- ``CREDIT_CARD``: 13-19 digits in card-like groups, a known issuer prefix and a valid Luhn checksum.
- ``IBAN``: country code, check digits and BBAN with the country's length, and ISO 13616 mod-97 == 1.
- ``IP_ADDRESS``: IPv4 with octets <= 255 (not after "version"/"v"), and IPv6 validated by :mod:`ipaddress`.
- ``US_SSN``: ``AAA-GG-SSSS`` (or nine digits next to "SSN"/"social security") with area not 000, 666 or 9xx, group
  not 00 and serial not 0000.
- ``PHONE``: North American numbers (with separators, or bare ten digits next to a phone word) and international
  numbers starting with ``+`` or ``00`` with 8-15 digits.
- ``SECRET``: AWS access keys, GitHub, Slack and Stripe tokens, ``sk-`` API keys, JWTs, private key blocks, bearer
  tokens, the value of ``password=`` / ``api_key:``-style assignments, and long high-entropy tokens next to a word
  such as "key", "token" or "secret" (never on their own: commit hashes and UUIDs are not secrets).

Names of people are not detected.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops.checksums import luhn_valid

ENTITY_TYPES: tuple[str, ...] = ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "SECRET", "US_SSN")
# Earlier wins when two detections overlap.
_PRIORITY = {"SECRET": 0, "EMAIL": 1, "IBAN": 2, "CREDIT_CARD": 3, "US_SSN": 4, "IP_ADDRESS": 5, "PHONE": 6}

# fmt: off
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
# fmt: on


@dataclass(frozen=True)
class PiiMatch:
    """One detected value: its type and character span ``[start, end)`` in the text."""

    entity: str
    start: int
    end: int


# ---------------------------------------------------------------------------------------------------------------
# Validators
# ---------------------------------------------------------------------------------------------------------------
def _card_prefix_ok(digits: str) -> bool:
    n = len(digits)
    two, three, four, six = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 222100 <= six <= 272099:  # Mastercard
        return n == 16
    if two in (34, 37):  # American Express
        return n == 15
    if four == 6011 or two == 65 or 644 <= three <= 649 or 622126 <= six <= 622925:  # Discover
        return 16 <= n <= 19
    if 3528 <= four <= 3589:  # JCB
        return 16 <= n <= 19
    if 300 <= three <= 305 or two in (36, 38, 39) or four == 3095:  # Diners Club
        return 14 <= n <= 19
    if two == 62:  # UnionPay
        return 16 <= n <= 19
    return two in (50, 56, 57, 58, 63, 67) and 12 <= n <= 19  # Maestro


def card_valid(candidate: str) -> bool:
    """Whether a candidate is a plausible payment card number (issuer prefix, length, Luhn).

    Args:
        candidate: digits with optional single spaces or dashes between groups.

    Returns:
        True when valid.
    """
    digits = re.sub(r"[ -]", "", candidate)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    separators = set(re.findall(r"[ -]", candidate))
    if len(separators) > 1:  # "4111 1111-1111 1111" is not how anyone writes a card
        return False
    if separators:
        groups = [len(g) for g in re.split(r"[ -]", candidate)]
        if groups not in ([4, 4, 4, 4], [4, 6, 5], [4, 6, 4], [4, 4, 4, 4, 3], [4, 4, 4, 1], [4, 4, 4, 4, 1]):
            return False
    return _card_prefix_ok(digits) and luhn_valid(digits)


def iban_valid(candidate: str) -> bool:
    """ISO 13616 IBAN check: known country, its length, and the mod-97 checksum.

    Args:
        candidate: the IBAN, spaces allowed.

    Returns:
        True when valid.
    """
    iban = candidate.replace(" ", "").upper()
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def ssn_valid(candidate: str) -> bool:
    """US Social Security number rules (area, group and serial ranges).

    Args:
        candidate: ``AAA-GG-SSSS``, ``AAA GG SSSS`` or nine digits.

    Returns:
        True when the number could be issued.
    """
    digits = re.sub(r"[ -]", "", candidate)
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return digits not in ("078051120", "219099999", "123456789")


def _ipv4_valid(candidate: str) -> bool:
    parts = candidate.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 and (p == "0" or p[0] != "0") for p in parts)


def _ipv6_valid(candidate: str) -> bool:
    if candidate.count(":") < 2 or not any(c.isalnum() for c in candidate):
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def shannon_entropy(text: str) -> float:
    """Bits per character of a string's character distribution."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


# ---------------------------------------------------------------------------------------------------------------
# Recognizers
# ---------------------------------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|\bversion\s*|\bver\.?\s*|\brelease\s*|\bbuild\s*|\bfirmware\s*)$")
_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")
_SSN_BARE = re.compile(r"(?<![\w-])\d{9}(?![\w-])")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?|ss#)\W{0,6}$")
_PHONE_NANP = re.compile(
    r"(?<![\w+-])(?:(?:\+?1)[ .-]?)?(?:\(\s*[2-9]\d{2}\s*\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-]|\.\d)"
)
_PHONE_BARE = re.compile(r"(?<![\w+-])(?:\+?1)?[2-9]\d{2}[2-9]\d{6}(?![\w-])")
_PHONE_INTL = re.compile(r"(?<![\w+-])(?<!\d[ .])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![\w-]|\.\d)")
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:call|phone|tel|telephone|mobile|cell|text|sms|whatsapp|reach me|contact|fax|number)\b[^.\n]{0,25}$"
)
_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])"),
    re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}"),
    re.compile(r"(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,250}"),
    re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,250}"),
    re.compile(r"(?<![A-Za-z0-9_-])sk-(?:[A-Za-z0-9]+-)?[A-Za-z0-9_-]{20,250}"),
    re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?<![A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
    re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/-]{20,}=*"),
)
# The value of an assignment to a secret-looking name: password=..., "api_key": "...", token: ...
_ASSIGNMENT = re.compile(
    r"(?i)\b(?:password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key"
    r"(?:[_-]?id)?|secret[_-]?access[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|"
    r"private[_-]?key)\b[\"']?\s*(?:=|:|=>)\s*(?P<value>\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|[^\s,;\"'<>]{1,200})"
)
_HIGH_ENTROPY = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])")
_SECRET_CONTEXT = re.compile(
    r"(?i)\b(?:key|token|secret|password|passwd|credential|credentials|bearer|auth|signature|apikey)\b[^.\n]{0,30}$"
)


def _context_before(text: str, start: int, pattern: re.Pattern[str], width: int = 40) -> bool:
    return pattern.search(text[max(0, start - width) : start]) is not None


def _find_emails(text: str) -> Iterable[PiiMatch]:
    for m in _EMAIL.finditer(text):
        yield PiiMatch("EMAIL", m.start(), m.end())


def _find_cards(text: str) -> Iterable[PiiMatch]:
    for m in _CARD.finditer(text):
        if card_valid(m.group()):
            yield PiiMatch("CREDIT_CARD", m.start(), m.end())


def _find_ibans(text: str) -> Iterable[PiiMatch]:
    for m in _IBAN.finditer(text):
        value = m.group()
        # The pattern is greedy over space-separated groups: back off group by group until the checksum holds.
        while value:
            if iban_valid(value):
                yield PiiMatch("IBAN", m.start(), m.start() + len(value))
                break
            cut = value.rfind(" ")
            if cut < 15:
                break
            value = value[:cut]


def _find_ips(text: str) -> Iterable[PiiMatch]:
    for m in _IPV4.finditer(text):
        if _ipv4_valid(m.group()) and not _context_before(text, m.start(), _VERSION_CONTEXT, 12):
            yield PiiMatch("IP_ADDRESS", m.start(), m.end())
    for m in _IPV6.finditer(text):
        if _ipv6_valid(m.group()):
            yield PiiMatch("IP_ADDRESS", m.start(), m.end())


def _find_ssns(text: str) -> Iterable[PiiMatch]:
    for m in _SSN.finditer(text):
        if ssn_valid(m.group()):
            yield PiiMatch("US_SSN", m.start(), m.end())
    for m in _SSN_BARE.finditer(text):
        if ssn_valid(m.group()) and _context_before(text, m.start(), _SSN_CONTEXT, 30):
            yield PiiMatch("US_SSN", m.start(), m.end())


def _find_phones(text: str) -> Iterable[PiiMatch]:
    for m in _PHONE_NANP.finditer(text):
        yield PiiMatch("PHONE", m.start(), m.end())
    for m in _PHONE_BARE.finditer(text):
        if _context_before(text, m.start(), _PHONE_CONTEXT):
            yield PiiMatch("PHONE", m.start(), m.end())
    for m in _PHONE_INTL.finditer(text):
        value = m.group().rstrip(" .-")
        digits = sum(c.isdigit() for c in value)
        if 8 <= digits <= 15 and value.count("(") == value.count(")"):
            yield PiiMatch("PHONE", m.start(), m.start() + len(value))


def _find_secrets(text: str) -> Iterable[PiiMatch]:
    for pattern in _SECRET_PATTERNS:
        for m in pattern.finditer(text):
            yield PiiMatch("SECRET", m.start(), m.end())
    for m in _ASSIGNMENT.finditer(text):
        start, end = m.span("value")
        value = m.group("value")
        if value[:1] in "\"'":
            start, end = start + 1, end - 1
        if end > start and not (value.strip("\"'").startswith("<") and value.strip("\"'").endswith(">")):
            yield PiiMatch("SECRET", start, end)
    for m in _HIGH_ENTROPY.finditer(text):
        token = m.group()
        classes = sum(
            (any(c.islower() for c in token), any(c.isupper() for c in token), any(c.isdigit() for c in token))
        )
        is_hex = all(c in "0123456789abcdefABCDEF" for c in token)
        strong = (is_hex and shannon_entropy(token) >= 3.0) or (classes >= 3 and shannon_entropy(token) >= 4.0)
        if strong and _context_before(text, m.start(), _SECRET_CONTEXT):
            yield PiiMatch("SECRET", m.start(), m.end())


_FINDERS: dict[str, Callable[[str], Iterable[PiiMatch]]] = {
    "EMAIL": _find_emails,
    "PHONE": _find_phones,
    "CREDIT_CARD": _find_cards,
    "IBAN": _find_ibans,
    "IP_ADDRESS": _find_ips,
    "SECRET": _find_secrets,
    "US_SSN": _find_ssns,
}
# Cheap pre-checks: skip a recognizer when the text cannot contain its entity.
_QUICK: dict[str, Callable[[str], bool]] = {
    "EMAIL": lambda t: "@" in t,
    "PHONE": lambda t: any(c.isdigit() for c in t),
    "CREDIT_CARD": lambda t: any(c.isdigit() for c in t),
    "IBAN": lambda t: any(c.isdigit() for c in t),
    "IP_ADDRESS": lambda t: "." in t or ":" in t,
    "SECRET": lambda t: True,
    "US_SSN": lambda t: any(c.isdigit() for c in t),
}


class PiiScrubber:
    """Finds PII of the configured types and replaces each value with ``<TYPE>``.

    Args:
        entities: the types to detect (default: all of :data:`ENTITY_TYPES`).
    """

    def __init__(self, entities: Sequence[str] | None = None) -> None:
        chosen = list(entities) if entities is not None else list(ENTITY_TYPES)
        unknown = sorted(set(chosen) - set(ENTITY_TYPES))
        if unknown:
            raise ValueError(f"unknown PII entity types {unknown}; known: {list(ENTITY_TYPES)}")
        self.entities = tuple(e for e in ENTITY_TYPES if e in chosen)

    def analyze(self, text: str | None) -> list[PiiMatch]:
        """Non-overlapping detections in a text, in order.

        Overlaps are resolved by type priority (secret, email, IBAN, card, SSN, IP, phone), then by length.

        Args:
            text: the text (``None`` has none).

        Returns:
            The matches, sorted by start.
        """
        if not text:
            return []
        found: list[PiiMatch] = []
        for entity in self.entities:
            if _QUICK[entity](text):
                found.extend(_FINDERS[entity](text))
        if not found:
            return []
        found.sort(key=lambda m: (_PRIORITY[m.entity], -(m.end - m.start), m.start))
        taken: list[PiiMatch] = []
        for match in found:
            if all(match.end <= t.start or match.start >= t.end for t in taken):
                taken.append(match)
        return sorted(taken, key=lambda m: m.start)

    def scrub(self, text: str | None) -> tuple[str | None, Counter[str]]:
        """Replace every detection with its placeholder.

        Args:
            text: the text.

        Returns:
            ``(scrubbed text, counts per type)``; ``None`` stays ``None``.
        """
        counts: Counter[str] = Counter()
        if not text:
            return text, counts
        matches = self.analyze(text)
        if not matches:
            return text, counts
        parts: list[str] = []
        cursor = 0
        for match in matches:
            parts.append(text[cursor : match.start])
            parts.append(f"<{match.entity}>")
            counts[match.entity] += 1
            cursor = match.end
        parts.append(text[cursor:])
        return "".join(parts), counts

    def scrub_records(
        self, records: Iterable[Mapping[str, Any]], fields: Sequence[str] = ("prompt", "response")
    ) -> tuple[list[dict[str, Any]], dict[str, int], int]:
        """Scrub the given text fields of every record.

        Args:
            records: the rows.
            fields: the fields to scrub.

        Returns:
            ``(scrubbed rows, counts per type, number of rows changed)``.
        """
        totals: Counter[str] = Counter()
        out: list[dict[str, Any]] = []
        changed = 0
        for record in records:
            row = dict(record)
            row_changed = False
            for name in fields:
                value = row.get(name)
                if isinstance(value, str):
                    scrubbed, counts = self.scrub(value)
                    if counts:
                        row[name] = scrubbed
                        totals.update(counts)
                        row_changed = True
            changed += row_changed
            out.append(row)
        return out, {entity: int(totals.get(entity, 0)) for entity in self.entities}, changed
