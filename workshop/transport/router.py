"""One bus listener that hands each frame only to the link waiting for its arbitration ID.

can-isotp's NotifierBasedCanStack gives every frame to every stack; with 30 ECUs and their
testers on one bus that is ~60 thread wake-ups per frame. Routing by ID keeps it to one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import can

Tap = Callable[[can.Message], None]


class FrameRouter(can.Listener):  # type: ignore[misc]
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[tuple[int, bool], queue.SimpleQueue[can.Message]] = {}
        self._taps: list[Tap] = []

    def subscribe(self, arbitration_id: int, extended: bool) -> queue.SimpleQueue[can.Message]:
        with self._lock:
            q: queue.SimpleQueue[can.Message] = queue.SimpleQueue()
            self._queues[(arbitration_id, extended)] = q
            return q

    def unsubscribe(self, arbitration_id: int, extended: bool) -> None:
        with self._lock:
            self._queues.pop((arbitration_id, extended), None)

    def add_tap(self, tap: Tap) -> None:
        with self._lock:
            self._taps = [*self._taps, tap]

    def remove_tap(self, tap: Tap) -> None:
        with self._lock:
            self._taps = [t for t in self._taps if t is not tap]

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
        self.notifier = can.Notifier(bus, [self.router], timeout=0.05)
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.notifier.stop()
            self.bus.shutdown()
