"""What a DoIP connection sent and received, as typed events for a trace (the bus trace view
shows them beside CAN frames)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PAYLOAD_TYPES = {  # ISO 13400-2 table 17, in words
    0x0000: "generic header NACK",
    0x0001: "vehicle identification request",
    0x0002: "vehicle identification request (EID)",
    0x0003: "vehicle identification request (VIN)",
    0x0004: "vehicle announcement / identification",
    0x0005: "routing activation request",
    0x0006: "routing activation response",
    0x0007: "alive check request",
    0x0008: "alive check response",
    0x4001: "entity status request",
    0x4002: "entity status response",
    0x4003: "power mode request",
    0x4004: "power mode response",
    0x8001: "diagnostic message",
    0x8002: "diagnostic message ACK",
    0x8003: "diagnostic message NACK",
}


def payload_type_name(payload_type: int) -> str:
    return PAYLOAD_TYPES.get(payload_type, f"reserved payload type 0x{payload_type:04X}")


@dataclass(frozen=True)
class DoipTraceEvent:
    time: float
    direction: str  # "tx" (the tester sent it) or "rx" (the gateway or an ECU sent it)
    payload_type: int
    source: int | None  # logical addresses, where the message carries them
    target: int | None
    data: bytes  # the UDS payload of a diagnostic message, else the DoIP payload

    @property
    def kind(self) -> str:
        return payload_type_name(self.payload_type)

    @classmethod
    def of(cls, direction: str, message: Any) -> DoipTraceEvent:
        payload_type = int(message.payload_type)
        source = getattr(message, "source_address", None)
        target = getattr(message, "target_address", None)
        if payload_type == 0x0005:  # routing activation request: tester's address only
            target = None
        elif payload_type == 0x0006:
            source, target = message.logical_address, message.client_logical_address
        user_data = getattr(message, "user_data", None)
        data = bytes(user_data) if payload_type == 0x8001 and user_data is not None \
            else bytes(message.pack())
        return cls(time.time(), direction, payload_type, source, target, data)


TraceObserver = Callable[[DoipTraceEvent], None]
