"""A bootloader whose long routines are polled with `31 03` (requestRoutineResults).

`31 01 FF00 <ALFID 44, address, length>` starts the erase and answers `71 01 FF00` at once;
`31 03 FF00` then answers status 01 while it erases and 00 when done. The check routine
`31 01 0202 <ALFID 44, address, length, SHA-256>` runs the same way. `31 01 FF01` checks the
dependencies. Erasing needs security level 0x09; the fingerprint, the download and the
checks level 0x01, so a tester unlocks twice. For a while after power-on every requestSeed
answers NRC 0x37 (requiredTimeDelayNotExpired). The fingerprint is F198 (tester id, 8 ASCII
bytes) and F199 (programming date, BCD), both before the erase. In the bootloader the
application version DIDs answer NRC 0x22. It talks CAN FD and takes 16 KiB blocks. Its
running image can be read out with 0x35 RequestUpload and TransferData (4093 bytes a block), and
the check routine then checks any range it is given, not only one just written.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

from workshop.simulator.bootloaders.common import (
    Convention,
    activate,
    begin_download,
    checks_passed,
    need,
    read_data,
)
from workshop.simulator.protocol import ALL, NON_DEFAULT, PROGRAMMING, Nrc, Reply, ServiceSpec
from workshop.simulator.services import data, programming, routine

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

LEVEL, ERASE_LEVEL = 0x01, 0x09
ERASE, CHECK, DEPENDENCIES = 0xFF00, 0x0202, 0xFF01
RUNNING, DONE, FAILED = 0x01, 0x00, 0x02
FINGERPRINT_DIDS = (0xF198, 0xF199)
BOOT_DIDS = frozenset({0xF180, 0xF18C, 0xF191})
ERASE_MS_PER_4K = 10.0
CHECK_S = 0.05
POWER_ON_DELAY_S = 0.8
UPLOAD_BLOCK = 4095  # maxNumberOfBlockLength of an upload (SID and counter included)


def _address_length(args: bytes) -> tuple[int, int]:
    if len(args) < 9 or args[0] != 0x44:
        raise Nrc(0x31 if args[:1] != b"\x44" else 0x13)
    return int.from_bytes(args[1:5], "big"), int.from_bytes(args[5:9], "big")


def routine_control(ecu: UdsServer, req: bytes) -> bytes:
    kind, rid, args = req[1], int.from_bytes(req[2:4], "big"), bytes(req[4:])
    if rid not in (ERASE, CHECK, DEPENDENCIES) or ecu.session != PROGRAMMING:
        return routine.routine_control(ecu, req)  # type: ignore[return-value]
    head = bytes([0x71, kind]) + req[2:4]
    p = ecu.programming
    if kind == 3:
        if rid not in p.started:
            raise Nrc(0x24)
        if ecu.now() < p.started[rid]:
            return head + bytes([RUNNING])
        del p.started[rid]
        return head + bytes([p.results.pop(rid)])
    if kind != 1:
        raise Nrc(0x12)
    flash = ecu.flash
    assert flash is not None
    if rid == ERASE:
        need(ecu, ERASE_LEVEL)
        if not all(d in flash.fingerprints and d in p.written for d in FINGERPRINT_DIDS):
            raise Nrc(0x22)
        address, length = _address_length(args)
        if len(args) != 9 or flash.banks[flash.target].locate(address, length) is None:
            raise Nrc(0x31)
        flash.erase(address, length, first_in_session=not p.erased)
        p.erased.append((address, address + length))
        p.started[rid] = ecu.now() + math.ceil(length / 4096) * ERASE_MS_PER_4K / 1000
        p.results[rid] = DONE
        return head
    need(ecu, LEVEL)
    if rid == CHECK:
        if len(args) != 9 + 32:
            raise Nrc(0x13)
        address, length = _address_length(args)
        if flash.banks[flash.target].locate(address, length) is None:
            raise Nrc(0x31)
        image = flash.banks[flash.target].read(address, length)
        ok = hashlib.sha256(image).digest() == args[9:]
        found = [d for d in p.downloads if d[0] == address and d[1] == length]
        if found:  # a check of what was just written; else of what the ECU holds
            found[-1][2] = int(ok)
        p.started[rid] = ecu.now() + CHECK_S
        p.results[rid] = DONE if ok else FAILED
        return head
    ok = checks_passed(ecu)
    if ok:
        activate(ecu)
    return head + bytes([DONE if ok else FAILED])


def write_data(ecu: UdsServer, req: bytes) -> bytes:
    did = int.from_bytes(req[1:3], "big")
    if did not in FINGERPRINT_DIDS:
        return data.write_data(ecu, req)
    need(ecu, LEVEL)
    value = bytes(req[3:])
    if len(value) != (8 if did == 0xF198 else 3):
        raise Nrc(0x13)
    assert ecu.flash is not None
    ecu.flash.fingerprints[did] = value
    ecu.flash.save()
    ecu.programming.written.add(did)
    return b"\x6e" + req[1:3]


def request_download(ecu: UdsServer, req: bytes) -> bytes:
    need(ecu, LEVEL)
    if req[1] != 0x00:
        raise Nrc(0x31)
    if req[2] != 0x44 or len(req) != 11:
        raise Nrc(0x31 if req[2] != 0x44 else 0x13)
    if ERASE in ecu.programming.started and ecu.now() < ecu.programming.started[ERASE]:
        raise Nrc(0x22)
    return begin_download(ecu, "plain", int.from_bytes(req[3:7], "big"),
                          int.from_bytes(req[7:11], "big"))


def request_upload(ecu: UdsServer, req: bytes) -> bytes:
    """0x35: read out [address, address + size) of the running image, in 4 KiB blocks."""
    need(ecu, LEVEL)
    if req[1] != 0x00:
        raise Nrc(0x31)
    if req[2] != 0x44 or len(req) != 11:
        raise Nrc(0x31 if req[2] != 0x44 else 0x13)
    address, size = int.from_bytes(req[3:7], "big"), int.from_bytes(req[7:11], "big")
    flash = ecu.flash
    assert flash is not None
    if size == 0 or flash.banks[flash.active].locate(address, size) is None:
        raise Nrc(0x31)
    ecu.programming.upload = (address, size, 0, 1)
    return bytes([0x75, 0x20]) + UPLOAD_BLOCK.to_bytes(2, "big")


def transfer_data(ecu: UdsServer, req: bytes) -> list[Reply] | bytes:
    upload = ecu.programming.upload
    if upload is None:
        return programming.transfer_data(ecu, req)
    need(ecu, LEVEL)
    address, size, done, expected = upload
    if len(req) != 2:
        raise Nrc(0x13)
    if req[1] != expected:
        raise Nrc(0x73)
    n = min(UPLOAD_BLOCK - 2, size - done)
    if n <= 0:
        raise Nrc(0x24)
    flash = ecu.flash
    assert flash is not None
    data = flash.banks[flash.active].read(address + done, n)
    ecu.programming.upload = (address, size, done + n, (expected + 1) & 0xFF)
    return bytes([0x76, req[1]]) + data


def transfer_exit(ecu: UdsServer, req: bytes) -> bytes:
    upload = ecu.programming.upload
    if upload is None:
        return programming.request_transfer_exit(ecu, req)
    if upload[2] != upload[1]:
        raise Nrc(0x24)
    ecu.programming.upload = None
    return b"\x77"


def read(ecu: UdsServer, req: bytes) -> bytes:
    return read_data(ecu, req, boot_dids=BOOT_DIDS, boot_nrc=0x22)


CONVENTION = Convention(
    "polling", LEVEL, 400_000.0, None, POWER_ON_DELAY_S, other_levels=frozenset({ERASE_LEVEL}),
    services={0x22: ServiceSpec(read, ALL, 3, False),
              0x2E: ServiceSpec(write_data, NON_DEFAULT, 4, False),
              0x31: ServiceSpec(routine_control, NON_DEFAULT, 4, True),
              0x34: ServiceSpec(request_download, frozenset({PROGRAMMING}), 4, False),
              0x35: ServiceSpec(request_upload, frozenset({PROGRAMMING}), 4, False),
              0x36: ServiceSpec(transfer_data, frozenset({PROGRAMMING}), 2, False),
              0x37: ServiceSpec(transfer_exit, frozenset({PROGRAMMING}), 1, False)})
