"""The signed head kept OUTSIDE the database: `<log>.head.json`, replaced atomically after each
commit. Restoring an old copy of the database, or deleting its WAL, cannot reach this file, so
verification sees the database fall behind the count and hash the workstation key signed.
"""

from __future__ import annotations

import json
from pathlib import Path

from workshop.audit.records import Checkpoint, canonical_json
from workshop.audit.verification import HeadInput
from workshop.foundation.paths import atomic_write

HEAD_FORMAT = "workshop-audit-head/1"


def head_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.stem + ".head.json")


def lock_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.stem + ".lock")


def write_head(log_path: Path, head: Checkpoint) -> None:
    """Durably replace the head: a crash leaves the old head or the new one, never half."""
    data = canonical_json({"format": HEAD_FORMAT, **head.to_json()}).encode() + b"\n"
    atomic_write(head_path(log_path), data)


def read_head(log_path: Path) -> HeadInput:
    path = head_path(log_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return HeadInput(None, f"file {path.name} missing")
    except (OSError, UnicodeDecodeError) as exc:
        return HeadInput(None, f"file {path.name} unreadable ({exc})")
    return parse_head(text, path.name)


def parse_head(text: str, where: str) -> HeadInput:
    try:
        obj = json.loads(text)
        if not isinstance(obj, dict) or obj.get("format") != HEAD_FORMAT:
            raise ValueError("not a workshop audit head")
        return HeadInput(Checkpoint.from_json(obj))
    except (ValueError, KeyError, TypeError) as exc:
        return HeadInput(None, f"{where} unreadable ({exc})")
