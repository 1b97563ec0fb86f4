"""Session control (0x10), ECU reset (0x11) and TesterPresent (0x3E)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from workshop.simulator.protocol import (
    ALL,
    DEFAULT,
    EXTENDED,
    PROGRAMMING,
    Nrc,
    Reply,
    ServiceSpec,
)
from workshop.simulator.services.programming import Programming

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer


def session_control(ecu: UdsServer, req: bytes) -> bytes:
    if len(req) != 2:
        raise Nrc(0x13)
    target = req[1]
    if target not in (DEFAULT, PROGRAMMING, EXTENDED):
        raise Nrc(0x12)
    in_boot = ecu.flash is not None and ecu.flash.in_boot_mode
    if target == PROGRAMMING and ecu.session == DEFAULT and not in_boot:
        raise Nrc(0x22)  # the application reaches programming through extended
    if target == PROGRAMMING:
        ecu.programming = Programming()
    ecu.session = target
    ecu.unlocked = 0
    ecu.seeds.clear()
    return bytes([0x50, target]) + struct.pack(">HH", ecu.ecu.p2_ms, ecu.ecu.p2_star_ms // 10)


def ecu_reset(ecu: UdsServer, req: bytes) -> list[Reply]:
    if len(req) != 2:
        raise Nrc(0x13)
    if req[1] not in (0x01, 0x03):
        raise Nrc(0x12)
    ecu.restart()
    return [Reply(0.0, bytes([0x51, req[1]]))]


def tester_present(ecu: UdsServer, req: bytes) -> bytes:
    if len(req) != 2:
        raise Nrc(0x13)
    if req[1] != 0x00:
        raise Nrc(0x12)
    return b"\x7e\x00"


SERVICES = {
    0x10: ServiceSpec(session_control, ALL, 2, True),
    0x11: ServiceSpec(ecu_reset, ALL, 2, True),
    0x3E: ServiceSpec(tester_present, ALL, 2, True),
}
