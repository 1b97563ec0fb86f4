"""Names that become file or folder names: one strict pattern, and containment of the result.

A vehicle, ECU or package name from a definition file or a package becomes a path (simulator
state, payload entries, stores). A name such as `../keep` must never reach the file system.
"""

from __future__ import annotations

import re
from pathlib import Path

from workshop.foundation.errors import ConfigError

# Letters, digits, '.', '_', '-'; starts with a letter or digit (so never '.', '..' or a
# hidden file); at most 64 characters. No separators, no drive letters, no NUL.
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_NAME = re.compile(NAME_PATTERN)


class UnsafeNameError(ConfigError):
    """A name that would become a path does not match NAME_PATTERN."""


def is_safe_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def safe_name(kind: str, value: object) -> str:
    """`value` unchanged when it may become one path component; else UnsafeNameError that
    names `kind` (the field, e.g. "ecus[2].name") and the allowed pattern."""
    if not is_safe_name(value):
        raise UnsafeNameError(
            f"{kind} {value!r} is not allowed: it becomes a file name",
            hint=f"use 1 to 64 characters matching {NAME_PATTERN} "
                 "(letters, digits, '.', '_', '-'; first a letter or digit)")
    assert isinstance(value, str)
    return value


def inside(folder: Path, path: Path) -> Path:
    """`path` resolved, provided it lies strictly inside `folder` (resolved too, links
    followed): removing or writing it can never touch `folder` itself or anything outside."""
    base = folder.resolve()
    resolved = path.resolve()
    if resolved == base or not resolved.is_relative_to(base):
        raise UnsafeNameError(f"{path} lies outside {base}",
                              hint="names that become paths must stay inside their folder")
    return resolved
