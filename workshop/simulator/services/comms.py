"""Communication control (0x28)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workshop.simulator.protocol import EXTENDED, Nrc, ServiceSpec

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer


def communication_control(ecu: UdsServer, req: bytes) -> bytes:
    if len(req) != 3:
        raise Nrc(0x13)
    if req[1] > 0x03:
        raise Nrc(0x12)
    if req[2] & 0x0F not in (1, 2, 3):
        raise Nrc(0x31)
    ecu.comm_control = req[1]
    return bytes([0x68, req[1]])


SERVICES = {
    0x28: ServiceSpec(communication_control, frozenset({EXTENDED}), 3, True),
}
