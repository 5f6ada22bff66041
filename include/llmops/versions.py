"""Model version numbers: the one check that the registry, the model repository and the Triton client share.

A version ends up in filesystem paths, ``models:/`` URIs and Triton URLs, so it is validated before use.
"""

from __future__ import annotations

import re

VERSION_PATTERN = r"^[1-9][0-9]{0,8}$"
_VERSION_RE = re.compile(VERSION_PATTERN)


def traversal_hint(value: str) -> str:
    """Why a name or version that failed validation looks dangerous (empty when it does not)."""
    lowered = value.lower()
    if ".." in value or "%2e" in lowered:
        return " (looks like path traversal)"
    if "/" in value or "\\" in value or "%2f" in lowered or "%5c" in lowered:
        return " (path separators, raw or URL-encoded, are not allowed)"
    if "%" in value:
        return " (URL-encoded characters are not allowed)"
    return ""


def is_version(text: str) -> bool:
    """Whether ``text`` is a version in canonical decimal form (``"3"``, not ``"03"`` or ``"+3"``)."""
    return _VERSION_RE.fullmatch(text) is not None


def validate_version(version: object) -> int:
    """Check a model version.

    Args:
        version: a positive ``int`` or its decimal string form (``"3"``).

    Returns:
        The version as an ``int``.

    Raises:
        ValueError: not a positive integer matching ``^[1-9][0-9]{0,8}$`` (no sign, no leading zero, no paths).
    """
    if isinstance(version, bool):
        raise ValueError(f"invalid model version {version!r}: expected a positive integer, not a bool")
    if isinstance(version, int):
        text = str(version)
    elif isinstance(version, str):
        text = version
    else:
        raise ValueError(f"invalid model version {version!r}: expected a positive integer")
    if not is_version(text):
        raise ValueError(
            f"invalid model version {version!r}{traversal_hint(text)}: expected a positive integer "
            f"without sign or leading zeros ({VERSION_PATTERN})"
        )
    return int(text)
