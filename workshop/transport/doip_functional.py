"""Functional requests through a DoIP gateway: one diagnostic message to the functional
logical address (ISO 13400-2, 0xE400 by default); the gateway passes it to every ECU behind
it, and each answer comes back as a diagnostic message from that ECU's own address."""

from __future__ import annotations

from typing import Any

from doipclient.messages import DiagnosticMessage

from workshop.transport.doip import DoipConnection
from workshop.transport.functional_answers import FunctionalAnswers


def functional_request(conn: DoipConnection, functional_address: int, payload: bytes,
                       window_s: float, finish_when: set[int] | None = None
                       ) -> dict[int, bytes]:
    """Each answering ECU's logical address -> its final answer, within the window
    (extended by P2* while an ECU's last word was 0x78); `finish_when`: stop once these
    addresses have answered for good. The window opens at the gateway's acknowledgement."""
    answers = FunctionalAnswers(payload, finish_when)

    def tap(m: Any) -> None:
        if isinstance(m, DiagnosticMessage) and m.target_address == conn.tester_address:
            answers.offer(m.source_address, bytes(m.user_data))

    link = conn.link(functional_address)
    conn.taps.append(tap)
    try:
        link.send_confirmed(payload)
        conn.reception.listen()  # the answers go to the tap, not to an inbox: read them now
        return answers.wait(window_s)
    finally:
        conn.taps.remove(tap)
        link.close()
