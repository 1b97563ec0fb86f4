"""Typed events of long-running core work, and the cooperative cancel token.

Core work (scan, DTC read, clear, later flash) reports through an `EventSink`: one callable
that receives these frozen dataclasses, from whatever thread does the work. The CLI prints
them; the app turns them into Qt signals. `task` names the work ("scan", "dtc.read", ...)
so that one sink can serve several.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from workshop.foundation.errors import CancelledError


@dataclass(frozen=True)
class Event:
    task: str


@dataclass(frozen=True)
class EcuStarted(Event):
    ecu: str


@dataclass(frozen=True)
class EcuStep(Event):
    """The ECU's work entered step `index` (1-based) of `total`, named `step`."""

    ecu: str
    step: str
    index: int
    total: int


@dataclass(frozen=True)
class EcuBytes(Event):
    """Bytes done of total for the ECU's current step (transfer, verify)."""

    ecu: str
    done: int
    total: int


@dataclass(frozen=True)
class EcuFinished(Event):
    """The ECU's part of the work is over. `result` is the task's per-ECU value type
    (e.g. an `EcuScan`); `error` is set when it failed, in words for the technician."""

    ecu: str
    ok: bool
    result: object | None = None
    error: str | None = None


@dataclass(frozen=True)
class LinkProblem(Event):
    """Something went wrong beside the main work, e.g. a TesterPresent keep-alive that timed
    out or met bus-off; the work itself may still succeed or fail on its own."""

    ecu: str
    message: str


EventSink = Callable[[Event], None]


def ignore_events(_: Event) -> None:
    """Default sink for callers that show no progress."""


class CancelToken:
    """Created by services for each piece of long work; set by the caller (UI, Ctrl-C);
    checked by the worker only at safe points."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once on cancel; True when cancelled."""
        return self._event.wait(max(seconds, 0.0))

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("cancelled by the user")
