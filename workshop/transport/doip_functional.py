"""Functional requests through a DoIP gateway: one diagnostic message to the functional
logical address (ISO 13400-2, 0xE400 by default); the gateway passes it to every ECU behind
it, and each answer comes back as a diagnostic message from that ECU's own address."""

from __future__ import annotations

import threading
import time
from typing import Any

from doipclient.messages import DiagnosticMessage

from workshop.transport.doip import DoipConnection

P2_STAR_S = 5.0
MAX_PENDING_S = 30.0


def functional_request(conn: DoipConnection, functional_address: int, payload: bytes,
                       window_s: float, finish_when: set[int] | None = None
                       ) -> dict[int, bytes]:
    """Each answering ECU's logical address -> its final answer, within the window
    (extended by P2* while an ECU's last word was 0x78); `finish_when`: stop once these
    addresses have answered for good. The window opens at the gateway's acknowledgement."""
    answers: dict[int, bytes] = {}
    pending: set[int] = set()
    done = threading.Event()
    lock = threading.Lock()
    sid_ok, sid_nrc = payload[0] + 0x40, 0x7F

    def tap(m: Any) -> None:
        if not isinstance(m, DiagnosticMessage) or m.target_address != conn.tester_address:
            return
        data = bytes(m.user_data)
        if not data or data[0] not in (sid_ok, sid_nrc):
            return
        with lock:
            if data[0] == sid_nrc and len(data) >= 3 and data[2] == 0x78:
                pending.add(m.source_address)
                return
            answers[m.source_address] = data
            pending.discard(m.source_address)
            if finish_when and finish_when <= answers.keys() and not pending:
                done.set()

    link = conn.link(functional_address)
    conn.taps.append(tap)
    try:
        link.send_confirmed(payload)
        deadline = time.monotonic() + window_s
        cap = deadline + MAX_PENDING_S
        while not done.wait(max(0.0, deadline - time.monotonic())):
            with lock:
                if not pending or time.monotonic() > cap:
                    break
            deadline = min(cap, time.monotonic() + P2_STAR_S)  # someone still works (0x78)
    finally:
        conn.taps.remove(tap)
        link.close()
    with lock:
        return dict(sorted(answers.items()))
