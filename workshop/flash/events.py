"""Typed progress of a flash, per ECU and overall: what the CLI draws and the app binds to.

Flash work also sends the generic events of foundation.events (EcuStarted, EcuStep,
EcuFinished); these add what only a transfer has: bytes, rate against the bus limit, ETA.
"""

from __future__ import annotations

from dataclasses import dataclass

from workshop.foundation.events import Event

TASK = "flash"


@dataclass(frozen=True)
class FlashProgress(Event):
    """One ECU's transfer: `done` of `total` bytes of memory image, `wire_bytes` sent so far,
    `rate_bps` payload bytes per second on the bus (recent), `bus_limit_bps` the ISO-TP
    ceiling of this bus, `eta_s` for this ECU's remaining steps (None: not known yet)."""

    ecu: str
    step: str
    done: int
    total: int
    wire_bytes: int
    rate_bps: float
    bus_limit_bps: float
    eta_s: float | None
    safe_to_cancel: bool


@dataclass(frozen=True)
class FlashOverall(Event):
    """The whole flash: ECUs finished of total, and the overall ETA."""

    finished: int
    total: int
    eta_s: float | None
    phase: str
    safe_to_cancel: bool
