"""DTC services: clear (0x14), read information (0x19) and DTC setting (0x85)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from workshop.simulator.protocol import (
    DEFAULT,
    EXTENDED,
    Nrc,
    Reply,
    ServiceSpec,
    pending_then,
)

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

AVAILABILITY_MASK = 0xFF


def clear_dtcs(ecu: UdsServer, req: bytes) -> list[Reply]:
    if len(req) != 4:
        raise Nrc(0x13)
    group = int.from_bytes(req[1:4], "big")
    if not ecu.dtcs.clear(group):
        raise Nrc(0x31)
    ecu.on_dtc_change()
    return pending_then(ecu.clear_duration_s, 0x14, b"\x54")


def read_dtc_info(ecu: UdsServer, req: bytes) -> bytes:
    sub = req[1]
    avail = AVAILABILITY_MASK
    if sub in (0x01, 0x02):
        if len(req) != 3:
            raise Nrc(0x13)
        matches = ecu.dtcs.by_mask(req[2])
        if sub == 0x01:
            # DTCFormatIdentifier: the format this ECU's DTC bytes are in (A9).
            return bytes([0x59, 0x01, avail, ecu.dtcs.format]) + struct.pack(
                ">H", len(matches))
        return bytes([0x59, 0x02, avail]) + _dtc_list(matches)
    if sub == 0x0A:
        if len(req) != 2:
            raise Nrc(0x13)
        return bytes([0x59, 0x0A, avail]) + _dtc_list(ecu.dtcs.supported())
    if sub in (0x04, 0x06):
        return _dtc_records(ecu, req)
    raise Nrc(0x12)


def _dtc_records(ecu: UdsServer, req: bytes) -> bytes:
    if len(req) != 6:
        raise Nrc(0x13)
    dtc, rec = int.from_bytes(req[2:5], "big"), req[5]
    if dtc not in ecu.dtcs.status:
        raise Nrc(0x31)
    out = bytearray([0x59, req[1]]) + dtc.to_bytes(3, "big") + bytes([ecu.dtcs.status[dtc]])
    if req[1] == 0x04:
        snaps = ecu.dtcs.snapshot_records(dtc)
        wanted = sorted(snaps) if rec == 0xFF else [rec]
        if rec != 0xFF and rec not in ecu.dtcs.defs[dtc].snapshots:
            raise Nrc(0x31)
        for number in wanted:
            dids = snaps.get(number, {})
            if not dids:
                continue
            out += bytes([number, len(dids)])
            for did, data in dids.items():
                out += struct.pack(">H", did) + data
    else:
        ext = ecu.dtcs.extended_records(dtc)
        wanted = sorted(ext) if rec in (0xFE, 0xFF) else [rec]
        if rec not in (0xFE, 0xFF) and rec not in ecu.dtcs.defs[dtc].extended:
            raise Nrc(0x31)
        for number in wanted:
            if number in ext:
                out += bytes([number]) + ext[number]
    return bytes(out)


def control_dtc_setting(ecu: UdsServer, req: bytes) -> bytes:
    if req[1] not in (0x01, 0x02):
        raise Nrc(0x12)
    ecu.dtc_setting_on = req[1] == 0x01
    return bytes([0xC5, req[1]])


def _dtc_list(items: list[tuple[int, int]]) -> bytes:
    return b"".join(dtc.to_bytes(3, "big") + bytes([st]) for dtc, st in items)


SERVICES = {
    0x14: ServiceSpec(clear_dtcs, frozenset({DEFAULT, EXTENDED}), 4, False),
    0x19: ServiceSpec(read_dtc_info, frozenset({DEFAULT, EXTENDED}), 2, False),
    0x85: ServiceSpec(control_dtc_setting, frozenset({EXTENDED}), 2, True),
}
