"""PII detection and scrubbing with typed placeholders.

Detected values are replaced with ``<EMAIL>``, ``<PHONE>``, ``<CREDIT_CARD>``, ``<IBAN>``, ``<IP_ADDRESS>``,
``<SECRET>``, ``<US_SSN>``, ``<NATIONAL_ID>``, ``<DATE_OF_BIRTH>``, ``<ADDRESS>`` or ``<PERSON>``; the rest of the text
is left exactly as it was. Detection runs in Presidio's analyzer (:mod:`llmops.data.pii_engine`), with the
recognizers of this module as custom recognizers, phonenumbers for national phone formats and spaCy's named-entity
model for person names. This module's recognizers are patterns followed by validators:

- ``EMAIL``: RFC 5322-style local parts, apostrophes included (``o'neil40@corp.example.org``).
- ``CREDIT_CARD``: 12-19 digits in card-like groups with a known issuer prefix (Visa, Mastercard, Amex, Discover,
  JCB, Diners, UnionPay, Maestro) and a valid Luhn checksum, or any Luhn-valid number right after "card".
- ``IBAN``: country code, check digits and BBAN with the country's length, ISO 13616 mod-97 == 1, any case.
- ``IP_ADDRESS``: IPv4 with octets <= 255 (not after "version"/"v"), and IPv6 validated by :mod:`ipaddress`.
- ``US_SSN``: ``AAA-GG-SSSS`` (or nine digits next to "SSN"/"social security") with area not 000, 666 or 9xx, group
  not 00 and serial not 0000.
- ``NATIONAL_ID``: UK National Insurance numbers, Spanish DNI/NIE and Italian codici fiscali (python-stdnum
  checksums), and German tax ids, French NIR and Dutch BSN (checksums) next to a word naming them.
- ``DATE_OF_BIRTH``: a date (numeric, ISO, or with a month name in six languages) after a word about birth.
- ``ADDRESS``: a house number and a street named with a street word of the served locales (USPS suffixes,
  "Straße", "straat", "rue", "calle", "via", ...), with flat or suite, postcode and city when they follow.
- ``PHONE``: North American numbers, international numbers starting with ``+`` or ``00``, and national numbers with
  a trunk prefix 0 (and Spain's nine digits), with separators; phonenumbers adds what it validates for the
  configured regions.
- ``PERSON``: names introduced or signed ("my name is ...", "I'm ...", "Thanks, ..."); the named-entity model adds
  names anywhere else.
- ``SECRET``: AWS access keys, GitHub, Slack and Stripe tokens, ``sk-`` API keys, JWTs, private key blocks, bearer
  tokens, the value of ``password=`` / ``api_key:``-style assignments, and long high-entropy tokens next to a word
  such as "key", "token" or "secret" (never on their own: commit hashes and UUIDs are not secrets).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from llmops.checksums import luhn_valid

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

PATTERN_TYPES: tuple[str, ...] = (
    "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "SECRET", "US_SSN", "NATIONAL_ID", "DATE_OF_BIRTH",
    "ADDRESS",
)  # fmt: skip
"""Types found by patterns, checksums (python-stdnum) and phonenumbers, without a language model."""
MODEL_TYPES: tuple[str, ...] = ("PERSON",)
"""Types the named-entity model finds (with the introductions and signatures the patterns read)."""
ENTITY_TYPES: tuple[str, ...] = PATTERN_TYPES + MODEL_TYPES
# Overlapping detections are merged into one placeholder, of the earliest type here.
_PRIORITY = {e: i for i, e in enumerate(
    ("SECRET", "EMAIL", "IBAN", "CREDIT_CARD", "US_SSN", "NATIONAL_ID", "IP_ADDRESS", "DATE_OF_BIRTH", "ADDRESS",
     "PHONE", "PERSON")
)}  # fmt: skip

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
    if four in (2131, 1800):  # JCB, 15 digits
        return n == 15
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
    if not digits.isdigit() or not 12 <= len(digits) <= 19:  # 12: Maestro (the prefix rules hold the rest)
        return False
    separators = set(re.findall(r"[ -]", candidate))
    if len(separators) > 1:  # "4111 1111-1111 1111" is not how anyone writes a card
        return False
    if separators:
        groups = [len(g) for g in re.split(r"[ -]", candidate)]
        fours = all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4  # 4-4-4-4, 4-4-4-3 (Maestro), ...
        if not (fours or groups in ([4, 6, 5], [4, 6, 4])):  # American Express, Diners Club
            return False
    return _card_prefix_ok(digits) and luhn_valid(digits)


_CARD_CONTEXT = re.compile(
    r"(?i)\b(?:card|cc|credit|debit|visa|mastercard|master card|amex|american express|discover|jcb|maestro|diners"
    r"|unionpay|pan)\b[^.\n]{0,30}$"
)


def _grouped_like_a_card(candidate: str) -> bool:
    """Sixteen digits in four groups of four with a valid Luhn checksum: written the way cards are, whatever the
    issuer prefix (an issuer list is never complete; one number in ten passes Luhn by chance, one in a thousand
    of those is written like this by chance)."""
    groups = re.split(r"[ -]", candidate)
    digits = "".join(groups)
    return (
        [len(g) for g in groups] == [4, 4, 4, 4] and len(set(re.findall(r"[ -]", candidate))) == 1
        and len(set(digits)) > 2 and luhn_valid(digits)
    )  # fmt: skip


def _card_in_context(candidate: str) -> bool:
    """A Luhn-valid 12-19 digit number written right after "card" (whatever its issuer prefix)."""
    digits = re.sub(r"[ -]", "", candidate)
    return digits.isdigit() and 12 <= len(digits) <= 19 and len(set(digits)) > 2 and luhn_valid(digits)


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
    # not inside a local part; a quote may open the address ('ab@x.org') unless it sits inside a word (o'neil)
    r"(?<![\w.+%-])(?<!\w['’])[A-Za-z0-9](?:[A-Za-z0-9._%+'’-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|\bversion\s*|\bver\.?\s*|\brelease\s*|\bbuild\s*|\bfirmware\s*)$")
_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")
_SSN_BARE = re.compile(r"(?<![\w-])\d{9}(?![\w-])")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?|ss#)(?:\s+(?:is|was|reads))?\W{0,6}$")
_PHONE_NANP = re.compile(
    r"(?<![\w+-])(?:(?:\+?1)[ .-]?)?(?:\(\s*[2-9]\d{2}\s*\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-]|\.\d)"
)
_PHONE_BARE = re.compile(r"(?<![\w+-])(?:\+?1)?[2-9]\d{2}[2-9]\d{6}(?![\w-])")
_PHONE_INTL = re.compile(r"(?<![\w+-])(?<!\d[ .])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![\w-]|\.\d)")
_PHONE_WORDS = (
    r"(?:call|phone|tel|telephone|mobile|cell|text|sms|whatsapp|reach me|reached|reach us|contact|fax|number)"
)
_PHONE_CONTEXT = re.compile(rf"(?i)\b{_PHONE_WORDS}\b[^.\n]{{0,25}}$")
# Anywhere in a text: whether any number in it could have a phone word before it (see phone_context).
PHONE_WORD = re.compile(rf"(?i)\b{_PHONE_WORDS}\b")
# A number written the national way could start here: "0" or "(" not inside a longer number (see phone_context).
NATIONAL_START = re.compile(r"(?<!\d)[0(]")
_PHONE_AFTER = re.compile(r"(?i)^[^.\n]{0,12}\b(?:recovery|backup|contact|phone|mobile|cell|callback) number\b")
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
    r"(?i)(?:\b|(?<=_))(?:password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key"
    r"(?:[_-]?id)?|secret[_-]?access[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|"
    r"private[_-]?key)\b[\"']?\s*(?:=|:|=>)\s*(?P<value>\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|[^\s,;\"'<>]{1,200})"
)
# "my password is hunter2!": the word after "password is" (to the next space; a closing punctuation mark dropped).
_PASSWORD_IS = re.compile(
    r"(?i)\b(?:password|passwd|passphrase|passcode|pin)(?:\s+[\w']+){0,4}?\s+(?:is|was|would be)\s+(?P<value>\S{4,200})"
)
_HIGH_ENTROPY = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])")
# "my password is wrong", "the PIN is incorrect": words, not secrets (a secret has a digit or a symbol).
_NOT_PASSWORDS = frozenset({"wrong", "incorrect", "invalid", "expired", "correct", "right", "fine", "reset"})
_SECRET_CONTEXT = re.compile(
    r"(?i)\b(?:key|token|secret|password|passwd|credential|credentials|bearer|auth|signature|apikey)\b[^.\n]{0,30}$"
)


def _context_before(text: str, start: int, pattern: re.Pattern[str], width: int = 40) -> bool:
    return pattern.search(text[max(0, start - width) : start]) is not None


def _context_after(text: str, end: int, pattern: re.Pattern[str], width: int = 40) -> bool:
    return pattern.search(text[end : end + width]) is not None


def _find_emails(text: str) -> Iterable[PiiMatch]:
    for m in _EMAIL.finditer(text):
        yield PiiMatch("EMAIL", m.start(), m.end())


def _find_cards(text: str) -> Iterable[PiiMatch]:
    for m in _CARD.finditer(text):
        value = m.group()
        if (
            card_valid(value)
            or _grouped_like_a_card(value)
            or (_card_in_context(value) and _context_before(text, m.start(), _CARD_CONTEXT))
        ):
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
    for start, end in national_phones(text):
        yield PiiMatch("PHONE", start, end)
    for m in _PHONE_NANP.finditer(text):
        yield PiiMatch("PHONE", m.start(), m.end())
    for m in _PHONE_BARE.finditer(text):
        if _context_before(text, m.start(), _PHONE_CONTEXT) or _context_after(text, m.end(), _PHONE_AFTER):
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
    for m in _PASSWORD_IS.finditer(text):
        value = m.group("value")
        lead = len(value) - len(value.lstrip("\"'“‘"))
        trimmed = value.strip(".,;!?)\"'“”‘’")
        if len(trimmed) >= 4 and trimmed.lower() not in _NOT_PASSWORDS and any(not c.isalpha() for c in trimmed):
            start = m.start("value") + lead
            yield PiiMatch("SECRET", start, start + len(trimmed))
    for m in _HIGH_ENTROPY.finditer(text):
        token = m.group()
        classes = sum(
            (any(c.islower() for c in token), any(c.isupper() for c in token), any(c.isdigit() for c in token))
        )
        is_hex = all(c in "0123456789abcdefABCDEF" for c in token)
        strong = (is_hex and shannon_entropy(token) >= 3.0) or (classes >= 3 and shannon_entropy(token) >= 4.0)
        if strong and _context_before(text, m.start(), _SECRET_CONTEXT):
            yield PiiMatch("SECRET", m.start(), m.end())


# National phone numbers outside North America, which the patterns above (NANP and "+"/"00" international forms) do
# not read and phonenumbers only reads for the regions it is given: a trunk prefix 0 and an area code, with or
# without parentheses, then groups ("020 7946 0123", "(089) 1234567", "06 12 34 56 78", "06-12345678"), 10-12
# digits; and Spain's nine digits from 6, 7, 8 or 9 in groups ("912 345 678", "612 34 56 78"). Both need a separator.
_PHONE_TRUNK = re.compile(r"(?<![\w+.,/-])(?<!\d[ .-])(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .-]\d{2,8}){1,4}(?![\w-]|[.,]\d)")
_PHONE_ES = re.compile(r"(?<![\w+.,/-])(?<!\d[ .-])[6-9]\d{1,2}(?:[ .-]\d{2,3}){2,3}(?![\w-]|[.,]\d)")


def national_phones(text: str) -> list[tuple[int, int]]:
    """Spans of national-format phone numbers (trunk prefix 0, or Spain's nine digits), separators required."""
    spans = []
    for m in _PHONE_TRUNK.finditer(text):
        if 10 <= sum(c.isdigit() for c in m.group()) <= 12:
            spans.append(m.span())
    for m in _PHONE_ES.finditer(text):
        groups = re.split(r"[ .-]", m.group())
        # "750 000 000" is a count written with thousands separators, not a number to call
        if sum(map(len, groups)) == 9 and any(g.strip("0") for g in groups[1:]):
            spans.append(m.span())
    return spans


# National identity numbers, validated with python-stdnum where it has the scheme; the ones that are only digits
# need a word naming them just before (a nine-digit number alone is as likely an order number as a BSN).
_ID_CONTEXT = re.compile(
    r"(?i)\b(?:national insurance|insurance number|nino|ni number|tax id|tax number|steuer-?id|steuer"
    r"-?identifikationsnummer|identifikationsnummer|sozialversicherungs(?:nummer)?|svnr|nir|s[ée]curit[ée] sociale"
    r"|num[ée]ro de s[ée]curit[ée]|insee|dni|nie|nif|bsn|burgerservicenummer|sofinummer|codice fiscale|fiscal code"
    r"|personal id|id number|identity number|national id|citizen service number|social security|ssn|tax code)"
    r"\b[^.\n]{0,25}$"
)
_NINO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Za-z](?![A-Za-z0-9])")
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_DIGIT_ID = re.compile(r"(?<![\w-])\d(?:[ .-]?\d){7,14}(?![\w-])")
_ALNUM_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?:-?[A-Za-z0-9]){7,15}(?![A-Za-z0-9])")


def _nino_valid(value: str, in_context: bool) -> bool:
    v = re.sub(r"\s", "", value).upper()
    if in_context:  # what the customer calls their insurance number is one, placeholder prefixes included
        return True
    return v[0] not in "DFIQUV" and v[1] not in "DFIOQUV" and v[:2] not in _NINO_BAD_PREFIX and v[-1] in "ABCD"


def _stdnum_valid(value: str) -> bool:
    from stdnum.es import dni, nie
    from stdnum.it import codicefiscale

    compact = re.sub(r"[\s.-]", "", value)
    if len(compact) == 16 and compact[:6].isalpha():
        return bool(codicefiscale.is_valid(compact))
    if len(compact) == 9 and compact[:1].upper() in "XYZ" and compact[1:8].isdigit():
        return bool(nie.is_valid(compact))
    if len(compact) == 9 and compact[:8].isdigit() and compact[8:].isalpha():
        return bool(dni.is_valid(compact))
    return False


def _digits_id_valid(value: str) -> bool:
    from stdnum.de import idnr
    from stdnum.fr import nir
    from stdnum.nl import bsn

    compact = re.sub(r"[\s.-]", "", value)
    return bool(bsn.is_valid(compact) or idnr.is_valid(compact) or nir.is_valid(compact))


def _find_national_ids(text: str) -> Iterable[PiiMatch]:
    for m in _NINO.finditer(text):
        if _nino_valid(m.group(), _context_before(text, m.start(), _ID_CONTEXT)):
            yield PiiMatch("NATIONAL_ID", m.start(), m.end())
    for m in _ALNUM_ID.finditer(text):
        if any(c.isalpha() for c in m.group()) and _stdnum_valid(m.group()):
            yield PiiMatch("NATIONAL_ID", m.start(), m.end())
    for m in _DIGIT_ID.finditer(text):
        if _context_before(text, m.start(), _ID_CONTEXT) and _digits_id_valid(m.group()):
            yield PiiMatch("NATIONAL_ID", m.start(), m.end())


# A date of birth: a date right after a word about birth. Dates elsewhere (an invoice's, a release's) are not.
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?|januar|februar|m[äa]rz|mai|juni|juli|oktober|dezember|janvier|f[ée]vrier|mars"
    r"|avril|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre|enero|febrero|marzo|abril|mayo|junio|julio"
    r"|agosto|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre"
    r"|dicembre|maart|mei|augustus)\.?"
)
_DATE = re.compile(
    r"(?i)(?<![\w/.-])(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|\.)?(?: de| of)? {_MONTHS}(?: de)?,? \d{{4}}"
    rf"|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})(?![\w/])"
)
_BIRTH_CONTEXT = re.compile(
    r"(?i)\b(?:born|birth|birthday|birthdate|dob|d\.o\.b|geboren|geburtsdatum|n[ée]e?|naissance|nacid[oa]|nacimiento"
    r"|nat[oa]|nascita|geboortedatum)\b[^.\n]{0,20}$"
)


_BIRTH_AFTER = re.compile(
    r"(?i)^[^.\n]{0,16}\b(?:date of birth|birth ?date|birthday|dob|d\.o\.b|born|geburtsdatum|date de naissance"
    r"|fecha de nacimiento|data di nascita|geboortedatum)\b"
)


def _find_birth_dates(text: str) -> Iterable[PiiMatch]:
    for m in _DATE.finditer(text):
        if _context_before(text, m.start(), _BIRTH_CONTEXT, 36) or _context_after(text, m.end(), _BIRTH_AFTER):
            yield PiiMatch("DATE_OF_BIRTH", m.start(), m.end())


# Street addresses: a house number and a street whose name ends with (or starts with) a street word of the locales
# served (USPS suffixes, British, German, Dutch, French, Spanish and Italian street words), then optionally the
# flat/suite and ", postcode city" or ", city postcode". The street words are the standard ones of each country's
# addressing rules, not a list of streets.
_STREET_SUFFIX = (
    r"(?:street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|pl|square|sq|terrace|ter"
    r"|close|crescent|cres|gardens|grove|hill|hills|park|parkway|pkwy|row|walk|mews|circle|cir|trail|trl|highway|hwy"
    r"|loop|ridge|run|path|pike|plaza|alley|bypass|camp|canyon|cape|causeway|center|centre|cliff|cliffs|common|corner"
    r"|corners|course|cove|creek|crossing|dale|dam|divide|estate|estates|expressway|extension|falls|ferry|field|fields"
    r"|flat|flats|ford|fords|forest|forge|forges|fork|forks|fort|freeway|garden|gateway|glen|glens|green|greens|harbor"
    r"|harbour|haven|heights|hollow|inlet|island|islands|isle|junction|junctions|key|keys|knoll|knolls|lake|lakes"
    r"|land|landing|light|lights|lock|locks|lodge|manor|manors|meadow|meadows|mill|mills|mission|motorway|mount"
    r"|mountain|mountains|neck|orchard|oval|overpass|pass|passage|pine|pines|plain|plains|point|points|port|ports"
    r"|prairie|radial|ranch|rapid|rapids|rest|river|route|shoal|shoals|shore|shores|skyway|spring|springs|spur|spurs"
    r"|station|stravenue|stream|summit|throughway|trace|track|trafficway|tunnel|turnpike|underpass|union|unions|valley"
    r"|valleys|via|viaduct|view|views|village|villages|ville|vista|wall|well|wells|wharf|brook|brooks|burg|burgs"
    r"|bluff|bluffs|bottom|branch|bridge|bridges|circles|curve|drives|fall|greens|parks|ways|vale|end|gate|gardens)\.?"
)
_STREET_WORD_AFTER = (
    r"(?:stra(?:ß|ss)e|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad|markt|straat|laan|plein|gracht"
    r"|dijk|kade|singel|hof|pad|steeg|park|baan|dreef|plantsoen|boulevard)"
)
_STREET_PREFIX = (
    r"(?:rue|avenue|boulevard|bd|chemin|impasse|all[ée]e|place|quai|route|cours|square|passage|voie|rond-point"
    r"|calle|c/|c\.|avenida|avda\.?|paseo|plaza|camino|ronda|v[íi]a|callej[óo]n|ca[ñn]ada|pasaje|rambla|urbanizaci[óo]n"
    r"|alameda|acceso|carretera|glorieta|traves[íi]a|cuesta|vial|via|viale|piazza|piazzale|corso|vicolo|largo|borgo"
    r"|contrada|strada|rotonda|incrocio|canale|stretto|vico|lungomare|salita|calle)"
)
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*"
_HOUSE = r"\d{1,5}(?:\s?[A-Za-z](?![\w])|[/-]\d{1,4})?"
_PARTICLES = r"(?:de|del|de la|des|du|di|della|dei|degli|delle|d'|l'|la|le|les|los|las|el|san|santa|van|von)"
_UNIT = (
    r"(?i:,?\s+(?:apt\.?|apartment|suite|ste\.?|unit|flat|floor|piso|puerta|appartamento|piano|bus|app\.?|bte)"
    r"\s*#?\s*\w{1,5})?"
)
_ADDRESS_PATTERNS: tuple[re.Pattern[str], ...] = (
    # 221B Baker Street, 17066 Heather Grove Apt. 915, Flat 5 3 Park Lane
    re.compile(
        rf"(?<![\w-])(?:(?i:flat|apartment|apt\.?|unit|suite)\s+\w{{1,5}},?\s+)?(?:{_HOUSE},?\s+)?"
        rf"(?:{_NAME_WORD}\s+){{0,3}}(?i:{_STREET_SUFFIX})(?![\w-]){_UNIT}"
    ),
    # Hauptstraße 5, Kurt-Schumacher-Str. 12a, Julianastraat 12, Am Lindenweg 3
    re.compile(
        rf"(?<![\w-])(?:(?:Am|An der|Auf der|Im|In der|Zum|Zur|Op de|Van)\s+)?(?:{_NAME_WORD}[\s-])?"
        rf"[\wÀ-ÿ-]*(?i:{_STREET_WORD_AFTER})\s+{_HOUSE}(?![\w-]){_UNIT}"
    ),
    # 12, rue de la Paix; 12 rue de la Paix (the number first)
    re.compile(
        rf"(?<![\w-])\d{{1,5}}(?:\s?(?:bis|ter))?,?\s+(?i:{_STREET_PREFIX})\s+(?:{_PARTICLES}\s*)*"
        rf"{_NAME_WORD}(?:\s+(?:{_PARTICLES}\s*)*{_NAME_WORD}){{0,3}}{_UNIT}"
    ),
    # Calle de Alcalá 42; Via Roma, 40; Rotonda Amadeo, 40 Appartamento 17 (the number after the name)
    re.compile(
        rf"(?<![\w-])(?i:{_STREET_PREFIX})\s+(?:{_PARTICLES}\s*)*{_NAME_WORD}(?:\s+(?:{_PARTICLES}\s*)*{_NAME_WORD})"
        rf"{{0,3}},?\s+{_HOUSE}(?![\w-]){_UNIT}"
    ),
)
_POSTCODE = r"(?:\d{5}(?:-\d{4})?|\d{4}\s?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{4}|[A-Z]-?\d{4,5}|\d{2}-\d{3})"
_CITY_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’]*(?:-[\w'’]+)*"
_CITY = rf"{_CITY_WORD}(?:\s(?:{_CITY_WORD}|sur|am|an|der|de|la|le|en|upon|on|di|del)){{0,3}}"
_ADDRESS_TAIL = re.compile(
    rf",?\s*\n?\s*(?:{_POSTCODE}\s+{_CITY}(?:,?\s+{_POSTCODE})?(?![\w-])"
    rf"|{_CITY}(?:,?\s+(?:[A-Z]{{2}}\s+)?{_POSTCODE}(?![\w-])|(?=\s*(?:[.!?;:)\n]|$|,))))"
)


def _find_addresses(text: str) -> Iterable[PiiMatch]:
    for pattern in _ADDRESS_PATTERNS:
        for m in pattern.finditer(text):
            value = m.group().rstrip(" ,")
            if not any(c.isdigit() for c in value):  # a house or flat number: "Park Lane" alone is a street
                continue
            end = m.start() + len(value)
            tail = _ADDRESS_TAIL.match(text, end)
            if tail and tail.group().strip(" ,"):
                end = tail.end()
            yield PiiMatch("ADDRESS", m.start(), end)


# Person names the way customers introduce or sign themselves ("my name is ...", "I'm ...", "Thanks, ..."),
# alongside the named-entity model (which reads names anywhere, but not in lower case or in many foreign forms).
_NAME_TOKEN = r"(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ][a-zß-öø-ÿ'’]*(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+)?|O['’][A-Z][a-z]+|Mc[A-Z][a-z]+)"
_PARTICLE = r"(?:van der|van den|van de|von der|de la|de los|del|van|von|de|da|di|du|le|la|ter|ten|zu|y)"
_INTRO_CAPITALIZED = re.compile(
    rf"(?:\b(?i:i am|i'm|i’m|this is|it's|it is|dear|hello|hi|hey|ask for|speak to|talk to|contact|my colleague"
    rf"|my wife|my husband"
    rf"|my manager|my boss|my son|my daughter|my assistant|signed|regards|thanks|thank you|cheers|best|sincerely"
    rf"|remove|invite|add|addressed to|spoke to|spoke with|speaking to|attention of|attn|cc|named|called"
    rf"|yours|mr|mrs|ms|miss|dr|prof|sr|sra|herr|frau|mme|m|dhr|mevr|sig|sig\.ra)\.?,?\s+)"
    rf"(?P<name>{_NAME_TOKEN}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_TOKEN}){{0,3}})"
)
_INTRO_ANY_CASE = re.compile(
    r"(?i)\b(?:my name is|my name's|name is|name:|i am called|call me)\s+"
    rf"(?P<name>[a-zß-öø-ÿ'’-]{{2,}}(?:\s+(?:{_PARTICLE}\s+)?[a-zß-öø-ÿ'’-]{{2,}}){{0,3}})"
)


# Words that follow "I'm", "this is" or "thanks," and are not names ("I'm Having trouble", "Thanks, Team").
_NOT_NAME_WORDS = frozenset(
    [
        "having",
        "trying",
        "unable",
        "writing",
        "looking",
        "sorry",
        "glad",
        "happy",
        "here",
        "back",
        "new",
        "still",
        "just",
        "also",
        "really",
        "very",
        "so",
        "not",
        "getting",
        "going",
        "using",
        "working",
        "contacting",
        "reaching",
        "team",
        "support",
        "everyone",
        "all",
        "again",
        "anyway",
        "again",
        "guys",
        "folks",
        "customer",
        "user",
        "admin",
        "sync",
        "settings",
        "account",
        "password",
        "billing",
        "premium",
        "basic",
        "business",
        "plus",
        "pro",
        "free",
        "trial",
    ]
)


@cache
def _not_names() -> frozenset[str]:
    try:
        from spacy.lang.en.stop_words import STOP_WORDS
    except ImportError:  # the served model's log writer: promotion ships spaCy's list beside this module
        from en_stop_words import STOP_WORDS  # type: ignore[no-redef]

    return frozenset(STOP_WORDS) | _NOT_NAME_WORDS


_NAME_PARTICLES = frozenset(
    [
        "van",
        "der",
        "den",
        "de",
        "la",
        "los",
        "las",
        "del",
        "von",
        "zu",
        "da",
        "di",
        "du",
        "le",
        "y",
        "ter",
        "ten",
        "lo",
        "st",
        "st.",
        "mc",
        "o'",
        "d'",
        "dos",
        "das",
    ]
)
# A word right after a name that makes it a product or a plan ("the Max Family plan", "Ada Lovelace edition").
_AFTER_PRODUCT = re.compile(
    r"(?i)^\s+(?:plan|plans|edition|app|client|tier|subscription|license|licence|package|bundle|version|release"
    r"|workspace|account|team|add-on|addon|series|model|device|laptop|phone|drive|cloud|suite|pro|plus)\b"
)
# A company's legal form or "&" after a name: a firm ("Müller & Söhne", "Familia Torrent S.L.", "Watson LLC").
_AFTER_COMPANY = re.compile(
    r"^\s*(?:&|\+|(?i:and sons|e figli|und söhne|et fils|y asociados)\b|(?:S\.?L|S\.?A|GmbH|AG|KG|LLC|Ltd|Inc|Co|B\.?V"
    r"|N\.?V|SARL|SAS|SpA|S\.?p\.?A|S\.?r\.?l|plc|PLC|LLP|Group|Holding|Holdings)\b)"
)


def plausible_name(text: str, start: int, end: int) -> bool:
    """Whether a span the named-entity model calls a person reads as a name: two or more words, each capitalized
    (particles such as "van der" aside, but not first), no digits, and not followed by a product word. Single words
    are left to the introduction patterns: alone, the small model takes "Tel", "Git" or a city at the start of a
    sentence for a person."""
    words = text[start:end].split()
    if len(words) < 2 or any(c.isdigit() for c in text[start:end]):
        return False
    if not words[0][:1].isupper():  # "de Robin" of "avenue de Robin": a street, not a name (a name starts upper)
        return False
    if any(not w[:1].isupper() and w.lower() not in _NAME_PARTICLES for w in words):
        return False
    if any(w.lower().strip(".,") in _not_names() for w in words if w.lower() not in _NAME_PARTICLES):
        return False
    after = text[end : end + 24]
    return not (_AFTER_PRODUCT.match(after) or _AFTER_COMPANY.match(after))


_DATE_ONLY = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


# Two capitalized words in a row, particles between allowed: the only shape of a model's name plausible_name keeps.
_NAME_PAIR = re.compile(
    r"[A-ZÀ-ÖØ-Þ][\w'’.-]*\s+(?:(?:"
    + "|".join(re.escape(p) for p in sorted(_NAME_PARTICLES, key=len, reverse=True))
    + r")\s+)*[A-ZÀ-ÖØ-Þ]"
)


def _name_word(word: str) -> bool:
    core = word.strip(_AROUND_WORDS)  # '"Anna', '(Berg)': the model's span holds the word without them
    return core[:1].isupper() and core.lower().strip(".,") not in _not_names()


_AROUND_WORDS = "\"'()[]{}<>«»“”‘’„‚¿¡:;!?*_-–—/"


def _name_pairs(words: Sequence[str]) -> Iterable[tuple[int, int]]:
    """The (first, last) word indices of each two capitalized, uncommon words in a row (particles between)."""
    for i, word in enumerate(words):
        if not _name_word(word):
            continue
        j = i + 1
        while j < len(words) and words[j].lower().strip(_AROUND_WORDS) in _NAME_PARTICLES:
            j += 1
        if j < len(words) and _name_word(words[j]):
            yield i, j


def may_hold_a_name(text: str) -> bool:
    """Whether a text has the shape :func:`plausible_name` requires of a name the model finds: two capitalized
    words in a row (particles between allowed), neither of them a common word (a stop word or one of the words that
    are never names). Texts without one can skip the model, losing nothing: :func:`plausible_name` would reject
    every span the model found in them."""
    return next(iter(_name_pairs(text.split())), None) is not None


NAME_CONTEXT_WORDS = 8
"""Words the named-entity model reads on each side of a possible name (see :func:`name_windows`)."""


def name_windows(text: str, context_words: int = NAME_CONTEXT_WORDS) -> list[tuple[int, int]]:
    """The stretches of a text the named-entity model needs to read: each pair of :func:`may_hold_a_name` with
    ``context_words`` words on either side, overlapping stretches merged, as ``(start, end)`` character offsets.

    The model's token vectors see four tokens on each side (``en_core_web_sm``'s tok2vec: four convolution layers
    of window one), so eight words of context give the words of a possible name the same vectors as in the whole
    text; a span outside every stretch could not pass :func:`plausible_name`.
    """
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    windows: list[tuple[int, int]] = []
    for i, j in _name_pairs([text[a:b] for a, b in spans]):
        first, last = max(0, i - context_words), min(len(spans) - 1, j + context_words)
        start, end = spans[first][0], spans[last][1]
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def phone_context(text: str, start: int, end: int) -> bool:
    """Whether a number phonenumbers validated reads as one to call: not glued to an id ("CS-0916620", "#4711"),
    not a date, and either written like a phone number (``+``, ``0`` or ``(`` first) or after a phone word."""
    if start and (text[start - 1].isalnum() or text[start - 1] in "-#/_"):
        return False
    if start > 1 and text[start - 2].isdigit() and text[start - 1] in " .-":  # the tail of a longer number
        return False
    if _DATE_ONLY.fullmatch(text[start:end]):
        return False
    return text[start] in "+0(" or _context_before(text, start, _PHONE_CONTEXT)


def _find_names(text: str) -> Iterable[PiiMatch]:
    not_names = _not_names()
    for pattern in (_INTRO_CAPITALIZED, _INTRO_ANY_CASE):
        for m in pattern.finditer(text):
            words = list(re.finditer(r"\S+", m.group("name")))
            # drop trailing words that are ordinary English ("this is John and ...", "I'm Having trouble")
            while words and words[-1].group().lower() in not_names:
                words.pop()
            if not words or words[0].group().lower() in not_names:
                continue
            start = m.start("name")
            yield PiiMatch("PERSON", start + words[0].start(), start + words[-1].end())


_FINDERS: dict[str, Callable[[str], Iterable[PiiMatch]]] = {
    "EMAIL": _find_emails,
    "PHONE": _find_phones,
    "CREDIT_CARD": _find_cards,
    "IBAN": _find_ibans,
    "IP_ADDRESS": _find_ips,
    "SECRET": _find_secrets,
    "US_SSN": _find_ssns,
    "NATIONAL_ID": _find_national_ids,
    "DATE_OF_BIRTH": _find_birth_dates,
    "ADDRESS": _find_addresses,
    "PERSON": _find_names,
}


def _digits(text: str, n: int) -> bool:
    count = 0
    for c in text:
        if c.isdigit():
            count += 1
            if count >= n:
                return True
    return False


# Cheap pre-checks: skip a recognizer when the text cannot contain its entity.
QUICK: dict[str, Callable[[str], bool]] = {
    "EMAIL": lambda t: "@" in t,
    "PHONE": lambda t: _digits(t, 7),
    "CREDIT_CARD": lambda t: _digits(t, 12),
    "IBAN": lambda t: _digits(t, 4),
    "IP_ADDRESS": lambda t: "." in t or ":" in t,
    "SECRET": lambda t: True,
    "US_SSN": lambda t: _digits(t, 9),
    "NATIONAL_ID": lambda t: _digits(t, 6),
    "DATE_OF_BIRTH": lambda t: _digits(t, 2),
    "ADDRESS": lambda t: _digits(t, 1),
    "PERSON": lambda t: True,
}


def find(entity: str, text: str) -> list[PiiMatch]:
    """The project's own recognizer of one type (patterns and validators; no model)."""
    return list(_FINDERS[entity](text)) if QUICK[entity](text) else []


def find_patterns(text: str | None, entities: Sequence[str] = PATTERN_TYPES) -> list[PiiMatch]:
    """This module's recognizers of the given types (no Presidio, no phonenumbers, no named-entity model), merged.

    What the served model's log writer runs before a line reaches the disk: it needs only this module,
    :mod:`llmops.checksums` and python-stdnum (see ``serving/model.py``). ``PERSON`` here reads introductions and
    signatures only.
    """
    if not text:
        return []
    return merge(m for entity in entities for m in find(entity, text))


def value_key(entity: str, value: str) -> str:
    """A detected value in a form that compares equal however it was written: e-mail addresses in lower case, phone
    numbers by their last ten digits ("+1 800 555 0199" and "(800) 555-0199" are one number), the rest without
    spaces and hyphens, in upper case."""
    if entity == "EMAIL":
        return value.lower()
    if entity == "PHONE":
        digits = re.sub(r"\D", "", value)
        return digits[-10:]
    return re.sub(r"[\s-]", "", value).upper()


def merge(matches: Iterable[PiiMatch]) -> list[PiiMatch]:
    """Overlapping detections merged into one span (nothing of a value stays in clear when two recognizers see
    parts of it), typed by the first type in the priority order (secret, e-mail, IBAN, card, SSN, national ID, IP,
    date of birth, address, phone, person); sorted by start."""
    ordered = sorted(matches, key=lambda m: (m.start, -m.end))
    merged: list[PiiMatch] = []
    for m in ordered:
        if merged and m.start < merged[-1].end:
            last = merged[-1]
            entity = min((last.entity, m.entity), key=lambda e: _PRIORITY[e])
            merged[-1] = PiiMatch(entity, last.start, max(last.end, m.end))
        else:
            merged.append(m)
    return merged


class PiiScrubber:
    """Finds PII of the configured types and replaces each value with ``<TYPE>``.

    Detection runs in Presidio's analyzer (:mod:`llmops.data.pii_engine`): the project's recognizers above,
    phonenumbers for phone numbers of the configured regions, and the spaCy named-entity model for person names
    (loaded only when ``PERSON`` is asked for).

    Args:
        entities: the types to detect (default: all of :data:`ENTITY_TYPES`).
        phone_regions: the regions whose national phone formats phonenumbers reads (default: the engine's).
    """

    def __init__(self, entities: Sequence[str] | None = None, phone_regions: Sequence[str] | None = None) -> None:
        chosen = list(entities) if entities is not None else list(ENTITY_TYPES)
        unknown = sorted(set(chosen) - set(ENTITY_TYPES))
        if unknown:
            raise ValueError(f"unknown PII entity types {unknown}; known: {list(ENTITY_TYPES)}")
        self.entities = tuple(e for e in ENTITY_TYPES if e in chosen)
        self.phone_regions = tuple(phone_regions) if phone_regions is not None else None

    @classmethod
    def from_config(cls, cfg: LLMOpsConfig) -> PiiScrubber:
        """The scrubber of ``data.pii`` (its types and phone regions)."""
        return cls(cfg.data.pii.entities, cfg.data.pii.phone_regions)

    def _engine(self) -> Any:
        from llmops.data.pii_engine import engine

        return engine(self.entities, self.phone_regions)

    def analyze(self, text: str | None) -> list[PiiMatch]:
        """Detections in a text, overlapping ones merged (see :func:`merge`), in order.

        Args:
            text: the text (``None`` has none).

        Returns:
            The matches, sorted by start.
        """
        if not text or not self.entities:
            return []
        return self._engine().analyze(text)

    def analyze_many(self, texts: Sequence[str | None]) -> list[list[PiiMatch]]:
        """:meth:`analyze` of many texts (the named-entity model reads them in batches)."""
        if not self.entities:
            return [[] for _ in texts]
        return self._engine().analyze_many(texts)

    @staticmethod
    def replace(text: str, matches: Sequence[PiiMatch]) -> tuple[str, Counter[str]]:
        """The text with every match replaced by its placeholder, and the counts per type."""
        counts: Counter[str] = Counter()
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

    def scrub(self, text: str | None) -> tuple[str | None, Counter[str]]:
        """Replace every detection with its placeholder.

        Args:
            text: the text.

        Returns:
            ``(scrubbed text, counts per type)``; ``None`` stays ``None``.
        """
        if not text:
            return text, Counter()
        return self.replace(text, self.analyze(text))

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
        rows = [dict(record) for record in records]
        cells = [(i, name) for i, row in enumerate(rows) for name in fields if isinstance(row.get(name), str)]
        analyses = self.analyze_many([rows[i][name] for i, name in cells])
        totals: Counter[str] = Counter()
        changed_rows: set[int] = set()
        for (i, name), matches in zip(cells, analyses, strict=True):
            if matches:
                rows[i][name], counts = self.replace(rows[i][name], matches)
                totals.update(counts)
                changed_rows.add(i)
        return rows, {entity: int(totals.get(entity, 0)) for entity in self.entities}, len(changed_rows)
