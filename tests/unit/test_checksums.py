"""The Luhn checksum shared by the PII scrubber and the demo generators."""

from __future__ import annotations

import random

import pytest

from llmops.checksums import luhn_check_digit, luhn_valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("4111 1111 1111 1111", True),
        ("4111-1111-1111-1112", False),
        ("378282246310005", True),  # American Express test number, 15 digits
        ("79927398713", True),  # the textbook example
        ("", False),
        ("4111x111", False),
    ],
)
def test_luhn_valid(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_check_digit_completes_a_valid_number() -> None:
    rng = random.Random(0)
    for _ in range(200):
        body = "".join(str(rng.randrange(10)) for _ in range(rng.randrange(1, 19)))
        check = luhn_check_digit(body)
        assert luhn_valid(body + check)
        assert not any(luhn_valid(body + str(d)) for d in range(10) if str(d) != check)
