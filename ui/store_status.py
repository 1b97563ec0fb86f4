"""The central store's sync state for the status bar; nothing when the store extra (psycopg)
is not installed or no store is configured."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError


def store_status() -> tuple[str, bool]:
    """(text, alarm): the line to show ("" for none) and whether it is a tamper alarm."""
    try:
        from workshop.services.sync import sync_status
    except ImportError:
        return "", False
    try:
        status = sync_status()
    except WorkshopError as exc:
        return f"Central store: {exc.message}", False
    return status.text(), bool(status.last and status.last.alarm)
