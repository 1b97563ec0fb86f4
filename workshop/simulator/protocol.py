"""What every simulated service shares: sessions, replies, NRCs and the service table entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

DEFAULT, PROGRAMMING, EXTENDED = 1, 2, 3
ALL = frozenset({DEFAULT, PROGRAMMING, EXTENDED})
NON_DEFAULT = frozenset({PROGRAMMING, EXTENDED})
RESPONSE_PENDING = 0x78


class Nrc(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"NRC 0x{code:02X}")
        self.code = code


@dataclass
class Reply:
    delay_s: float
    data: bytes

    @property
    def is_pending(self) -> bool:
        return self.data[:1] == b"\x7f" and self.data[2:3] == bytes([RESPONSE_PENDING])


Handler = Callable[["UdsServer", bytes], "list[Reply] | bytes | None"]


@dataclass
class ServiceSpec:
    handler: Handler
    sessions: frozenset[int]
    min_length: int
    has_subfunction: bool


def pending_then(duration_s: float, sid: int, final: bytes) -> list[Reply]:
    """A long operation: 0x78 at once, then the answer when the work is done (the runtime
    repeats the 0x78 while it waits, before P2* runs out)."""
    return [Reply(0.0, bytes([0x7F, sid, RESPONSE_PENDING])), Reply(duration_s, final)]
