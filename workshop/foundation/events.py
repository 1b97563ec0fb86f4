"""Typed progress records and a cooperative cancel token for long-running core work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from workshop.foundation.errors import CancelledError


@dataclass(frozen=True)
class Progress:
    """One step of long work: `done` of `total` units for `subject` (e.g. an ECU name)."""

    task: str
    subject: str
    done: int
    total: int
    message: str = ""


ProgressSink = Callable[[Progress], None]


def ignore_progress(_: Progress) -> None:
    """Default sink for callers that do not show progress."""


class CancelToken:
    """Set by the caller (UI, Ctrl-C); checked by the worker only at safe points."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("cancelled by the user")
