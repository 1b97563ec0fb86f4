"""A PSA-style bootloader: zones, and an erase the tester polls by starting it again.

`31 01 FF00 <zone>` starts erasing the zone and answers at once with status 01 (erasing);
the same request repeated answers 01 until the erase has finished, then 02 (done; 03:
failed). RequestDownload is by address (ALFID 0x44) inside an erased zone. The check routine
`31 01 0203 <zone> <CRC-16/X.25>` answers 02 when the zone holds what the CRC says, 03 when
not. There is no dependency routine: writing the fingerprint F184 (date YYMMDD in BCD,
4 bytes of tester id, 4 bytes of CRC-32) after every zone was checked validates the
software, which starts at the next reset. Security level 0x03.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from workshop.simulator.bootloaders.common import (
    Convention,
    activate,
    begin_download,
    block_in,
    checks_passed,
    need,
    read_data,
)
from workshop.simulator.protocol import ALL, NON_DEFAULT, PROGRAMMING, Nrc, ServiceSpec
from workshop.simulator.services import data, routine

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

LEVEL = 0x03
ERASE, CHECK = 0xFF00, 0x0203
BUSY, DONE, FAILED = 0x01, 0x02, 0x03
FINGERPRINT_DID = 0xF184
BOOT_DIDS = frozenset({0xF180, 0xF18C, 0xF191})
ERASE_MS_PER_4K = 40.0


def _x25_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        for _ in range(8):
            n = (n >> 1) ^ 0x8408 if n & 1 else n >> 1
        table.append(n)
    return tuple(table)


_X25_TABLE = _x25_table()


def crc16_x25(image: bytes) -> bytes:
    """CRC-16/X.25 the way a small bootloader computes it: reflected, table-driven, a byte at
    a time. The tester computes it another way (workshop.flash.checksums: the stdlib's
    unreflected CRC-CCITT over bit-reversed bytes), so each side checks the other. (The `crc`
    package took about 3 s for 256 KiB, longer than P2: the ECU did not answer in time.)"""
    crc, table = 0xFFFF, _X25_TABLE
    for b in image:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return (crc ^ 0xFFFF).to_bytes(2, "big")


def routine_control(ecu: UdsServer, req: bytes) -> bytes:
    kind, rid, args = req[1], int.from_bytes(req[2:4], "big"), bytes(req[4:])
    if rid not in (ERASE, CHECK) or ecu.session != PROGRAMMING:
        return routine.routine_control(ecu, req)  # type: ignore[return-value]
    if kind != 1:
        raise Nrc(0x12)
    need(ecu, LEVEL)
    flash = ecu.flash
    assert flash is not None
    head = bytes([0x71, 1]) + req[2:4]
    if not args:
        raise Nrc(0x13)
    address, length = block_in(ecu, args[0])
    if rid == ERASE:
        if len(args) != 1:
            raise Nrc(0x13)
        erasing = ecu.programming.erasing
        if erasing is not None and erasing[0] == args[0]:
            if ecu.now() < erasing[1]:
                return head + bytes([BUSY])
            ecu.programming.erasing = None
            return head + bytes([DONE])
        flash.erase(address, length, first_in_session=not ecu.programming.erased)
        ecu.programming.erased.append((address, address + length))
        seconds = math.ceil(length / 4096) * ERASE_MS_PER_4K / 1000
        ecu.programming.erasing = (args[0], ecu.now() + seconds)
        return head + bytes([BUSY])
    if len(args) != 3:
        raise Nrc(0x13)
    done = [d for d in ecu.programming.downloads if address <= d[0] < address + length]
    if not done:
        raise Nrc(0x24)
    ok = True
    for d in done:
        image = flash.banks[flash.target].read(d[0], d[1])
        d[2] = int(crc16_x25(image) == args[1:])
        ok = ok and bool(d[2])
    return head + bytes([DONE if ok else FAILED])


def write_data(ecu: UdsServer, req: bytes) -> bytes:
    did = int.from_bytes(req[1:3], "big")
    if did != FINGERPRINT_DID:
        return data.write_data(ecu, req)
    need(ecu, LEVEL)
    value = bytes(req[3:])
    if len(value) != 11:
        raise Nrc(0x13)
    if not all(b >> 4 <= 9 and b & 0xF <= 9 for b in value[:3]):
        raise Nrc(0x31)
    assert ecu.flash is not None
    ecu.flash.fingerprints[did] = value
    ecu.programming.fingerprint_written = True
    if checks_passed(ecu):
        activate(ecu)
    else:
        ecu.flash.save()
    return b"\x6e" + req[1:3]


def request_download(ecu: UdsServer, req: bytes) -> bytes:
    need(ecu, LEVEL)
    if req[1] != 0x00:
        raise Nrc(0x31)
    if req[2] != 0x44 or len(req) != 11:
        raise Nrc(0x31 if req[2] != 0x44 else 0x13)
    erasing = ecu.programming.erasing
    if erasing is not None:
        raise Nrc(0x22)  # the tester did not wait for the erase to finish
    return begin_download(ecu, "plain", int.from_bytes(req[3:7], "big"),
                          int.from_bytes(req[7:11], "big"))


def read(ecu: UdsServer, req: bytes) -> bytes:
    return read_data(ecu, req, boot_dids=BOOT_DIDS, boot_nrc=0x31)


CONVENTION = Convention(
    "psa", LEVEL, 80_000.0, 0x0802,
    services={0x22: ServiceSpec(read, ALL, 3, False),
              0x2E: ServiceSpec(write_data, NON_DEFAULT, 4, False),
              0x31: ServiceSpec(routine_control, NON_DEFAULT, 4, True),
              0x34: ServiceSpec(request_download, frozenset({PROGRAMMING}), 4, False)})
