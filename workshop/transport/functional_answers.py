"""The answers to one functional request, as they come in from any number of ECUs: the same
rules over CAN and through a DoIP gateway.

An ECU's 0x78 (response pending) keeps the window open by P2* (up to MAX_PENDING_S); an ECU
the caller does not know of may answer at any time in the window, so the whole window is
waited for unless the caller only needs some answers (`finish_when`)."""

from __future__ import annotations

import threading
import time

P2_STAR_S = 5.0
MAX_PENDING_S = 30.0


class FunctionalAnswers:
    def __init__(self, payload: bytes, finish_when: set[int] | None = None) -> None:
        self.sid_ok, self.sid_nrc = payload[0] + 0x40, 0x7F
        self.finish_when = finish_when
        self._answers: dict[int, bytes] = {}
        self._pending: set[int] = set()
        self._done = threading.Event()
        self._lock = threading.Lock()

    def offer(self, source: int, data: bytes | None) -> None:
        """An answer from `source` (a CAN id or a DoIP logical address); anything that is
        not an answer to this request is ignored."""
        if not data or data[0] not in (self.sid_ok, self.sid_nrc):
            return
        with self._lock:
            if data[0] == self.sid_nrc and len(data) >= 3 and data[2] == 0x78:
                self._pending.add(source)
                return
            self._answers[source] = data
            self._pending.discard(source)
            if self.finish_when and self.finish_when <= self._answers.keys() \
                    and not self._pending:
                self._done.set()

    def wait(self, window_s: float) -> dict[int, bytes]:
        """Source -> final answer, after the window (opened by the caller's send)."""
        deadline = time.monotonic() + window_s
        cap = deadline + MAX_PENDING_S
        while not self._done.wait(max(0.0, deadline - time.monotonic())):
            with self._lock:
                if not self._pending or time.monotonic() > cap:
                    break
            # Someone still works on it (0x78): extend by P2* like a tester must.
            deadline = min(cap, time.monotonic() + P2_STAR_S)
        with self._lock:
            return dict(sorted(self._answers.items()))
