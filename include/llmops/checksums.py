"""Check digits: the Luhn (mod 10) checksum of payment card numbers.

One implementation for the PII scrubber (which validates cards it finds) and the demo generators (which plant valid
and invalid card numbers).
"""

from __future__ import annotations


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit that makes ``digits + check`` valid.

    Args:
        digits: the number without its check digit, ASCII digits only.

    Returns:
        One digit.
    """
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: these become the odd positions once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether a number passes the Luhn check.

    Args:
        number: the digits, optionally grouped with spaces or dashes (``"4111 1111 1111 1111"``).

    Returns:
        True when the checksum is valid; False when ``number`` holds no digits or anything but digits, spaces and
        dashes.
    """
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48  # the scrubber's hot path: ord() is cheaper than int()
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
