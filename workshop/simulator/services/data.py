"""Data by identifier: read (0x22, several DIDs per request) and write (0x2E)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from workshop.simulator.protocol import ALL, NON_DEFAULT, Nrc, ServiceSpec

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

WRITABLE_DIDS = {0xF198: 6, 0xF199: 3}  # repair shop code, programming date (BCD)


def read_data(ecu: UdsServer, req: bytes) -> bytes:
    if len(req) % 2 != 1:
        raise Nrc(0x13)
    dids = [int.from_bytes(req[i:i + 2], "big") for i in range(1, len(req), 2)]
    out = bytearray([0x62])
    # live values only from the application: a bootloader serves its own few DIDs
    live = ecu.live if ecu.flash is None or not ecu.flash.in_boot_mode else {}
    for did in dids:
        if did in ecu.dids:
            out += struct.pack(">H", did) + ecu.dids[did]
        elif did in live:
            out += struct.pack(">H", did) + live[did](ecu.now() - ecu.started_at)
    if len(out) == 1:
        raise Nrc(0x31)
    return bytes(out)


def write_data(ecu: UdsServer, req: bytes) -> bytes:
    did = int.from_bytes(req[1:3], "big")
    if did not in WRITABLE_DIDS:
        raise Nrc(0x31)
    if len(req) != 3 + WRITABLE_DIDS[did]:
        raise Nrc(0x13)
    if not ecu.unlocked:
        raise Nrc(0x33)
    ecu.dids[did] = bytes(req[3:])
    return b"\x6e" + req[1:3]


SERVICES = {
    0x22: ServiceSpec(read_data, ALL, 3, False),
    0x2E: ServiceSpec(write_data, NON_DEFAULT, 4, False),
}
