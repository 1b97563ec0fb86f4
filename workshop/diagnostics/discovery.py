"""Functional requests: find which ECUs answer, and clear DTCs on all of them at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import can

from workshop.transport.confirmation import confirm_sent
from workshop.transport.errors import BusOffError
from workshop.transport.functional_answers import FunctionalAnswers
from workshop.transport.isotp_link import functional_message, parse_single_frame
from workshop.transport.router import BusEndpoint


@dataclass(frozen=True)
class FunctionalAnswer:
    response_id: int
    payload: bytes


class FunctionalRequest:
    """Send one single-frame functional request and collect single-frame answers.

    Listens for the whole window, extended by P2* while any responder's last word was 0x78
    (response pending), up to MAX_PENDING_S: an ECU the caller does not know of may answer
    at any time in the window, so knowing every expected answer is no reason to stop.
    `finish_when` lets a caller that only needs some answers (a functional clear, which is
    verified per ECU afterwards) stop once those are final.
    """

    def __init__(self, endpoint: BusEndpoint, functional_id: int, extended: bool,
                 is_response_id: Callable[[int], bool]) -> None:
        self.endpoint = endpoint
        self.functional_id = functional_id
        self.extended = extended
        self.is_response_id = is_response_id

    def run(self, payload: bytes, window_s: float, finish_when: set[int] | None = None
            ) -> list[FunctionalAnswer]:
        answers = FunctionalAnswers(payload, finish_when)

        def tap(msg: can.Message) -> None:
            if msg.is_extended_id != self.extended or msg.arbitration_id == self.functional_id:
                return
            if self.is_response_id(msg.arbitration_id):
                answers.offer(msg.arbitration_id, parse_single_frame(bytes(msg.data)))

        self.endpoint.router.add_tap(tap)
        try:
            try:
                self.endpoint.bus.send(functional_message(self.functional_id, self.extended,
                                                          payload))
                confirm_sent(self.endpoint.bus)  # the window opens when the request has left
            except can.CanOperationError as exc:
                raise BusOffError(f"the adapter cannot transmit: {exc}",
                                  hint="check wiring, termination and the bitrate") from exc
            found = answers.wait(window_s)
        finally:
            self.endpoint.router.remove_tap(tap)
        return [FunctionalAnswer(k, v) for k, v in found.items()]
