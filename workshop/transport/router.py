"""One bus listener that hands each frame only to the link waiting for its arbitration ID.

can-isotp's NotifierBasedCanStack gives every frame to every stack; with 30 ECUs and their
testers on one bus that is ~60 thread wake-ups per frame. Routing by ID keeps it to one.

An arbitration ID has at most one subscriber. Two ISO-TP links receiving the same ID would
both send flow control and each take the other's answers as its own, so a second subscriber
is refused (`LinkInUseError`) instead of silently stealing the first one's frames. Observers
that only watch (trace, functional requests) use taps, which see every frame.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Protocol

import can

from workshop.transport.errors import TransportError

Tap = Callable[[can.Message], None]


class Sink(Protocol):
    """Where a subscriber's frames go: a queue, or anything that takes them the same way."""

    def put(self, msg: can.Message, /) -> None: ...


class LinkInUseError(TransportError):
    """Another link on this bus already receives this arbitration ID."""


class FrameRouter(can.Listener):  # type: ignore[misc]
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[tuple[int, bool], Sink] = {}
        self._taps: list[Tap] = []
        self._tx_taps: list[Tap] = []

    def subscribe(self, arbitration_id: int, extended: bool, sink: Sink | None = None
                  ) -> Sink:
        """Route the frames with this ID to `sink` (a new queue when None) and return it;
        raises LinkInUseError if the ID has a subscriber already."""
        key = (arbitration_id, extended)
        with self._lock:
            if key in self._queues:
                width = 8 if extended else 3
                raise LinkInUseError(
                    f"CAN ID 0x{arbitration_id:0{width}X} is already received by another "
                    "link on this bus (one tester link per ECU)",
                    hint="close the other client of this ECU first, or do both jobs through "
                         "one client; use a tap to only watch the traffic")
            q: Sink = queue.SimpleQueue() if sink is None else sink
            self._queues[key] = q
            return q

    def unsubscribe(self, arbitration_id: int, extended: bool,
                    q: Sink | None = None) -> None:
        """Stop routing the ID; with `q`, only if that queue is still the subscriber."""
        with self._lock:
            key = (arbitration_id, extended)
            if q is None or self._queues.get(key) is q:
                self._queues.pop(key, None)

    def add_tap(self, tap: Tap) -> None:
        with self._lock:
            self._taps = [*self._taps, tap]

    def remove_tap(self, tap: Tap) -> None:
        with self._lock:
            self._taps = [t for t in self._taps if t is not tap]

    def add_tx_tap(self, tap: Tap) -> None:
        """Also see the frames this endpoint's own links send (a bus does not echo them)."""
        with self._lock:
            self._tx_taps = [*self._tx_taps, tap]

    def remove_tx_tap(self, tap: Tap) -> None:
        with self._lock:
            self._tx_taps = [t for t in self._tx_taps if t is not tap]

    def sent(self, msg: can.Message) -> None:
        for tap in self._tx_taps:
            tap(msg)

    def on_message_received(self, msg: can.Message) -> None:
        if msg.is_error_frame or msg.is_remote_frame:
            return
        q = self._queues.get((msg.arbitration_id, msg.is_extended_id))
        if q is not None:
            q.put(msg)
        for tap in self._taps:
            tap(msg)


class BusEndpoint:
    """A bus with its notifier and router: what links and taps attach to."""

    def __init__(self, bus: can.BusABC) -> None:
        self.bus = bus
        self.router = FrameRouter()
        # The simulated bus hands frames to the router itself (`SimulatedBus.listen`): a
        # notifier thread would be one more thread hand-over per frame.
        listen = getattr(bus, "listen", None)
        self.notifier: can.Notifier | None = None
        if listen is not None:
            listen(self.router.on_message_received)
        else:
            self.notifier = can.Notifier(bus, [self.router], timeout=0.05)
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self.notifier is not None:
                self.notifier.stop()
            self.bus.shutdown()
