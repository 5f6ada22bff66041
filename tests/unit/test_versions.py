"""Model version numbers: what the registry, the model repository and the Triton client accept."""

from __future__ import annotations

import pytest

from llmops.versions import is_version, traversal_hint, validate_version


@pytest.mark.parametrize(("value", "expected"), [(1, 1), ("1", 1), ("42", 42), (999_999_999, 999_999_999)])
def test_valid_versions(value: object, expected: int) -> None:
    assert validate_version(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        "0",
        "01",
        "-1",
        "+1",
        "1.0",
        1.0,
        "1 ",
        "",
        "../1",
        "1/..",
        "%2e%2e",
        "%31",
        "/1",
        "1\\",
        True,
        None,
        1_000_000_000,
    ],
)
def test_invalid_versions(value: object) -> None:
    with pytest.raises(ValueError) as info:
        validate_version(value)
    assert repr(value) in str(info.value)


def test_version_hints_name_the_danger() -> None:
    with pytest.raises(ValueError, match="path traversal"):
        validate_version("../1")
    with pytest.raises(ValueError, match="separators"):
        validate_version("1%2F2")
    assert traversal_hint("12") == ""


@pytest.mark.parametrize(("text", "expected"), [("1", True), ("10", True), ("01", False), ("1a", False), ("", False)])
def test_is_version(text: str, expected: bool) -> None:
    assert is_version(text) is expected
