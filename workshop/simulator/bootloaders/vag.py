"""A VAG-style bootloader: logical blocks, not addresses.

Erase is `31 01 FF00 01 <block>` (format 01: a logical block number follows), answered with
0x78 while it erases; RequestDownload carries the block number as its one-byte address
(ALFID 0x41); the checksum routine 0x0202 takes the block's CRC-32; 0x0202 must have passed
for every downloaded block before `31 01 FF01` (check programming dependencies) accepts the
software. Before the erase the tester writes F15A: programming date (YYMMDD, BCD), its
workshop code (6 BCD digits) and 3 bytes of its own choice. Security level 0x11.
"""

from __future__ import annotations

import math
import zlib
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
from workshop.simulator.protocol import (
    ALL,
    NON_DEFAULT,
    PROGRAMMING,
    Nrc,
    Reply,
    ServiceSpec,
    pending_then,
)
from workshop.simulator.services import data, routine

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

LEVEL = 0x11
ERASE, CHECKSUM, DEPENDENCIES = 0xFF00, 0x0202, 0xFF01
FINGERPRINT_DID = 0xF15A
BOOT_DIDS = frozenset({0xF180, 0xF18C, 0xF191, 0xF187})
ERASE_MS_PER_4K = 15.0


def _bcd(raw: bytes) -> bool:
    return all(b >> 4 <= 9 and b & 0xF <= 9 for b in raw)


def write_data(ecu: UdsServer, req: bytes) -> bytes:
    did = int.from_bytes(req[1:3], "big")
    if did != FINGERPRINT_DID:
        return data.write_data(ecu, req)
    need(ecu, LEVEL)
    value = bytes(req[3:])
    if len(value) != 9:
        raise Nrc(0x13)
    if not _bcd(value[:6]) or not 1 <= int(value[1:2].hex()) <= 12:
        raise Nrc(0x31)  # date and workshop code are BCD
    assert ecu.flash is not None
    ecu.flash.fingerprints[did] = value
    ecu.flash.save()
    ecu.programming.fingerprint_written = True
    return b"\x6e" + req[1:3]


def routine_control(ecu: UdsServer, req: bytes) -> list[Reply] | bytes:
    kind, rid, args = req[1], int.from_bytes(req[2:4], "big"), bytes(req[4:])
    if rid not in (ERASE, CHECKSUM, DEPENDENCIES) or ecu.session != PROGRAMMING:
        return routine.routine_control(ecu, req)
    if kind != 1:
        raise Nrc(0x12)
    need(ecu, LEVEL)
    flash = ecu.flash
    assert flash is not None
    head = bytes([0x71, 1]) + req[2:4]
    if rid == ERASE:
        if len(args) != 2 or args[0] != 0x01:
            raise Nrc(0x31)
        if not ecu.programming.fingerprint_written:
            raise Nrc(0x22)
        address, length = block_in(ecu, args[1])
        flash.erase(address, length, first_in_session=not ecu.programming.erased)
        ecu.programming.erased.append((address, address + length))
        return pending_then(math.ceil(length / 4096) * ERASE_MS_PER_4K / 1000, 0x31,
                            head + b"\x00")
    if rid == CHECKSUM:
        if len(args) != 4:
            raise Nrc(0x13)
        if not ecu.programming.downloads:
            raise Nrc(0x24)
        address, size, _ = ecu.programming.downloads[-1]
        ok = zlib.crc32(flash.banks[flash.target].read(address, size)).to_bytes(4, "big") \
            == args
        ecu.programming.downloads[-1][2] = int(ok)
        return head + (b"\x00" if ok else b"\x01")
    ok = checks_passed(ecu)
    if ok:
        activate(ecu)
    return head + (b"\x00" if ok else b"\x01")


def request_download(ecu: UdsServer, req: bytes) -> bytes:
    need(ecu, LEVEL)
    if req[1] != 0x00:
        raise Nrc(0x31)  # this bootloader takes plain data only
    if req[2] != 0x41 or len(req) != 8:
        raise Nrc(0x13 if req[2] == 0x41 else 0x31)
    address, length = block_in(ecu, req[3])
    size = int.from_bytes(req[4:8], "big")
    if size > length:
        raise Nrc(0x31)
    return begin_download(ecu, "plain", address, size)


def read(ecu: UdsServer, req: bytes) -> bytes:
    return read_data(ecu, req, boot_dids=BOOT_DIDS, boot_nrc=0x31)


CONVENTION = Convention(
    "vag", LEVEL, 120_000.0, 0x0FFF,
    services={0x22: ServiceSpec(read, ALL, 3, False),
              0x2E: ServiceSpec(write_data, NON_DEFAULT, 4, False),
              0x31: ServiceSpec(routine_control, NON_DEFAULT, 4, True),
              0x34: ServiceSpec(request_download, frozenset({PROGRAMMING}), 4, False)})
