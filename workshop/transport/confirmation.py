"""Transmit confirmation: the moment a request has left, from which ISO 14229-2 times P2.

A UDS client starts its P2 wait when its transport confirms the request was sent, not when
the request was queued: a 4 KiB TransferData block on a busy bus takes longer to leave than
P2 lasts. Every transport a client runs over confirms its sends: ISO-TP on CAN when the last
frame of the message has left (T_Data.con, ISO 15765-2), DoIP when the gateway acknowledged
the diagnostic message (ISO 13400-2 diagnostic message positive acknowledgement).
"""

from __future__ import annotations

from typing import Protocol

import can

from workshop.transport.errors import TransportError
from workshop.transport.simbus import SimulatedBus

# ISO 15765-2 N_As: each frame must be confirmed by the CAN controller within 1 s.
N_AS_S = 1.0


class SendNotConfirmedError(TransportError):
    """The transport could not confirm that the request left (no flow control from the
    ECU, the adapter could not transmit, or the link was stopped)."""


def confirm_sent(bus: can.BusABC) -> None:
    """Return once the frames the calling thread sent on `bus` have left it.

    The simulated wire says when; a real adapter gives python-can no transmit confirmation
    short of an echo, and its `send` returning (the frame is in the adapter's hands) is the
    closest there is."""
    if isinstance(bus, SimulatedBus):
        bus.wait_sent()


class ConfirmingLink(Protocol):
    """What a UDS client needs of its transport."""

    def send_confirmed(self, payload: bytes | memoryview, *more: bytes | memoryview) -> None:
        """Send `payload` (followed by `more`, one message); return once the transport
        confirms it has left, else raise SendNotConfirmedError."""

    def available(self) -> bool:
        """Whether a received message is waiting."""

    def recv(self, block: bool = False, timeout: float | None = None) -> bytearray | None:
        """The next received message, if any."""
