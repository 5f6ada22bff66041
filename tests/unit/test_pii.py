"""PII scrubbing: every type is found and replaced, look-alikes are left alone, the rest of the text is intact."""

from __future__ import annotations

import pytest

from llmops.checksums import luhn_valid
from llmops.data.pii import PiiScrubber, card_valid, iban_valid, ssn_valid
from llmops.demo.synthetic import planted_pii_corpus

SCRUBBER = PiiScrubber()

POSITIVES: list[tuple[str, str, str]] = [
    ("EMAIL", "Please reply to jane.doe42@mail.example.net today.", "jane.doe42@mail.example.net"),
    ("EMAIL", "cc: o.rahman+nimbus@example.co.uk", "o.rahman+nimbus@example.co.uk"),
    ("PHONE", "Call me at (415) 555-0134 after five.", "(415) 555-0134"),
    ("PHONE", "My mobile is +1 212 555 0199.", "+1 212 555 0199"),
    ("PHONE", "Reach me on +44 20 7946 0958 please.", "+44 20 7946 0958"),
    ("PHONE", "my phone is 4155550123", "4155550123"),
    ("PHONE", "Text 212.555.0101 when ready.", "212.555.0101"),
    ("CREDIT_CARD", "The card 4111 1111 1111 1111 was charged.", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "Amex 3782-822463-10005 please", "3782-822463-10005"),
    ("CREDIT_CARD", "paid with 5500000000000004.", "5500000000000004"),
    ("IBAN", "Refund to DE89 3704 0044 0532 0130 00 please.", "DE89 3704 0044 0532 0130 00"),
    ("IBAN", "my account GB82WEST12345698765432.", "GB82WEST12345698765432"),
    ("IP_ADDRESS", "The login came from 203.0.113.77.", "203.0.113.77"),
    ("IP_ADDRESS", "server 2001:db8:85a3::8a2e:370:7334 is blocked", "2001:db8:85a3::8a2e:370:7334"),
    ("US_SSN", "My SSN is 123-45-6788.", "123-45-6788"),
    ("US_SSN", "social security number: 078051121", "078051121"),
    ("SECRET", "key AKIAIOSFODNN7EXAMPLE in the config", "AKIAIOSFODNN7EXAMPLE"),
    ("SECRET", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("SECRET", "bot xoxb-123456789012-abcdefghijklmnopqrstuvwx here", "xoxb-123456789012-abcdefghijklmnopqrstuvwx"),
    ("SECRET", "use sk-proj-abcdefghijklmnopqrstuvwxyz1234", "sk-proj-abcdefghijklmnopqrstuvwxyz1234"),
    (
        "SECRET",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("SECRET", "config: password=Hunter2!xyz done", "Hunter2!xyz"),
    ("SECRET", 'settings {"api_key": "abc123DEF456ghi789"}', "abc123DEF456ghi789"),
    (
        "SECRET",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
    ),
    ("SECRET", "the signing secret is Zx8Kq2Lm9Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh", "Zx8Kq2Lm9Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh"),
]


@pytest.mark.parametrize(("entity", "text", "value"), POSITIVES, ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVES)])
def test_each_type_is_replaced_by_its_placeholder(entity: str, text: str, value: str) -> None:
    scrubbed, counts = SCRUBBER.scrub(text)
    assert scrubbed == text.replace(value, f"<{entity}>"), scrubbed
    assert counts == {entity: 1}


LOOKALIKES = [
    "My order number is 84736291.",
    "Order ORD-2024-000123 never arrived.",
    "It started on 2024-01-15 and again on 01/15/2024.",
    "I run version 2.14.3 of the app.",
    "After updating to v10.0.19.1 it broke.",
    "Version 1.2.3.4 is installed.",
    "The number 4111 1111 1111 1112 on the box.",  # Luhn fails
    "The number 4164 0086 7069 4813 on the box.",  # Luhn fails, and "0086 ..." is not a phone number
    "The reference DE89370400440532013001 from the bank.",  # mod-97 fails
    "The form shows 987-65-4321 and 666-12-3456 and 123-00-4567.",  # invalid SSN ranges
    "We are on commit 3f2a9c0d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49.",
    "The request id was 550e8400-e29b-41d4-a716-446655440000.",
    "It failed at 12:30:45 today.",
    "See ticket #1234567 for details.",
    "I was billed $1,299.99 this month.",
    "ZIP 94107, suite 1200, 3 files.",
    "Tracking 1Z999AA10123456784.",
    "MAC 00:1A:2B:3C:4D:5E on the router.",
    "Use the password field on the login page.",
    "Set password=<PASSWORD> in the template.",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_are_not_scrubbed(text: str) -> None:
    scrubbed, counts = SCRUBBER.scrub(text)
    assert scrubbed == text and not counts, SCRUBBER.analyze(text)


def test_several_values_in_one_text_and_the_rest_intact() -> None:
    text = "Hi, I'm at jane@example.com or +1 415 555 0134; card 4111-1111-1111-1111. Thanks!"
    scrubbed, counts = SCRUBBER.scrub(text)
    assert scrubbed == "Hi, I'm at <EMAIL> or <PHONE>; card <CREDIT_CARD>. Thanks!"
    assert counts == {"EMAIL": 1, "PHONE": 1, "CREDIT_CARD": 1}


def test_entity_selection_and_records() -> None:
    only_email = PiiScrubber(["EMAIL"])
    rows, counts, changed = only_email.scrub_records(
        [{"prompt": "mail a@example.com, call (415) 555-0134", "response": None, "id": "x"}]
    )
    assert rows[0]["prompt"] == "mail <EMAIL>, call (415) 555-0134" and rows[0]["response"] is None
    assert counts == {"EMAIL": 1} and changed == 1
    with pytest.raises(ValueError, match="unknown PII"):
        PiiScrubber(["NAME"])
    assert SCRUBBER.scrub(None) == (None, {})


def test_validators() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert card_valid("4111 1111 1111 1111") and not card_valid("4111 1111-1111 1111")
    assert not card_valid("1234 5678 9012 3452")  # Luhn-valid, no issuer
    assert iban_valid("DE89 3704 0044 0532 0130 00") and not iban_valid("DE89 3704 0044 0532 0130 01")
    assert ssn_valid("123-45-6788") and not ssn_valid("000-12-3456") and not ssn_valid("912-12-3456")


def test_planted_corpus_recall_and_precision() -> None:
    records = planted_pii_corpus(600, seed=11)
    planted = found = predicted = correct = 0
    for record in records:
        matches = SCRUBBER.analyze(record.text)
        predicted += len(matches)
        for entity, start, end in record.spans:
            planted += 1
            found += any(m.entity == entity and m.start < end and m.end > start for m in matches)
        correct += sum(any(m.entity == e and m.start < b and m.end > a for e, a, b in record.spans) for m in matches)
    assert planted > 300 and sum(len(r.lookalikes) for r in records) > 100
    assert found / planted >= 0.99
    assert correct / predicted >= 0.97


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please ask (Anna Berg) to approve the invoice.", True),
        ('Signed, "Jan van der Berg"', True),
        ("Write to «Chloé Martin».", True),
        ("Thanks, Daniël de Vries!", True),
        ("The Pro Plan is free this month.", False),  # capitalized, but common words: no name plausible_name keeps
        ("Hello, I am here about my invoice.", False),
        ("ship it to 4, avenue de Robin please", False),  # a particle first is no name
    ],
)
def test_texts_go_to_the_entity_model_only_when_they_may_hold_a_kept_name(text: str, expected: bool) -> None:
    from llmops.data.pii import may_hold_a_name

    assert may_hold_a_name(text) is expected
