"""The bootloader's services: RequestDownload (0x34), TransferData (0x36), RequestTransferExit
(0x37), the programming routines (0x31), the fingerprint (0x2E) and what 0x22 reads in the
bootloader. Routine ids, security level, data formats and timings come from the ECU's flash
profile, the same data the tester's executor reads.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import bsdiff4

from workshop.packages.compression import HEADER, CompressionError, chunks
from workshop.simulator.protocol import (
    ALL,
    EXTENDED,
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

# What a bootloader answers (ISO 14229 leaves the rest to the application).
BOOT_SERVICES = {0x10, 0x11, 0x22, 0x27, 0x2E, 0x31, 0x34, 0x36, 0x37, 0x3E}
BOOT_DIDS = {0xF180, 0xF18C, 0xF191}
APPLICATION_VERSION_DIDS = {0xF189, 0xF195}
DEFAULT_BLOCK_LENGTH = 4095  # what one classic ISO-TP message carries
FD_BLOCK_LENGTH = 16386  # a 16 KiB buffer, with SID and counter
MAX_READ = 4094  # 0x23: what one answer (SID and data) of at most 4095 bytes carries


@dataclass
class Transfer:
    mode: str
    address: int
    size: int
    expected: int = 1
    last: int | None = None
    produced: int = 0
    buffer: bytearray = field(default_factory=bytearray)


@dataclass
class Programming:
    """Per programming session: what was erased, downloaded and checked."""

    fingerprint_written: bool = False
    erased: list[tuple[int, int]] = field(default_factory=list)
    downloads: list[list[int]] = field(default_factory=list)  # [address, size, verified]
    transfer: Transfer | None = None
    erasing: tuple[int, float] | None = None  # block and end time of an erase in progress
    started: dict[int, float] = field(default_factory=dict)  # routine id -> result time
    results: dict[int, int] = field(default_factory=dict)  # routine id -> its status byte
    written: set[int] = field(default_factory=set)  # fingerprint DIDs written this session
    upload: tuple[int, int, int, int] | None = None  # address, size, sent, next counter


def _flash(ecu: UdsServer):  # type: ignore[no-untyped-def]
    if ecu.flash is None:
        raise Nrc(0x11)
    return ecu.flash


def _require_unlocked(ecu: UdsServer) -> None:
    if ecu.session != PROGRAMMING:
        raise Nrc(0x7F)
    if ecu.unlocked != ecu.convention.security_level:
        raise Nrc(0x33)


def _address_length(alfid: int, body: bytes) -> tuple[int, int]:
    na, nl = alfid & 0xF, alfid >> 4
    if not 1 <= na <= 5 or not 1 <= nl <= 4 or len(body) != na + nl:
        raise Nrc(0x31 if len(body) == na + nl else 0x13)
    return int.from_bytes(body[:na], "big"), int.from_bytes(body[na:], "big")


# -- RequestDownload / TransferData / RequestTransferExit ----------------------------------

def request_download(ecu: UdsServer, req: bytes) -> bytes:
    flash = _flash(ecu)
    _require_unlocked(ecu)
    if len(req) < 3:
        raise Nrc(0x13)
    p = ecu.ecu.flash
    modes = {v: k for k, v in p.data_formats.items()}
    mode = modes.get(req[1])
    if mode is None or (mode == "bsdiff4" and p.banks != "ab"):
        raise Nrc(0x31)
    address, size = _address_length(req[2], req[3:])
    bank = flash.banks[flash.target]
    if size == 0 or bank.locate(address, size) is None:
        raise Nrc(0x31)
    if not any(a <= address and address + size <= b for a, b in ecu.programming.erased):
        raise Nrc(0x70)
    ecu.programming.transfer = Transfer(mode, address, size)
    block = p.max_block_length or (FD_BLOCK_LENGTH if ecu.ecu.fd else DEFAULT_BLOCK_LENGTH)
    return bytes([0x74, 0x20]) + block.to_bytes(2, "big")


def transfer_data(ecu: UdsServer, req: bytes) -> list[Reply] | bytes:
    flash = _flash(ecu)
    _require_unlocked(ecu)
    t = ecu.programming.transfer
    if t is None:
        raise Nrc(0x24)
    counter, block = req[1], req[2:]
    answer = bytes([0x76, counter])
    if counter == t.last:
        return answer  # a repeat of the last block (its answer was lost): written once
    if counter != t.expected:
        raise Nrc(0x73)
    keep = ecu.power_cut_after(len(block))
    if keep is not None:
        _consume(flash, t, block[:keep])
        return []  # the power went off while this block was being written
    _consume(flash, t, block)
    t.last, t.expected = counter, (counter + 1) & 0xFF
    flash.write_count += 1
    seconds = len(block) / ecu.convention.write_bytes_per_s
    if seconds > ecu.ecu.p2_ms / 1000:
        return pending_then(seconds, 0x36, answer)
    return [Reply(seconds, answer)]


def _consume(flash, t: Transfer, block: bytes) -> None:  # type: ignore[no-untyped-def]
    bank = flash.banks[flash.target]
    if t.mode == "plain":
        if t.produced + len(block) > t.size:
            raise Nrc(0x71)
        bank.write(t.address + t.produced, block)
        t.produced += len(block)
        return
    t.buffer += block
    if t.mode == "lz4":
        _decode_complete_chunks(bank, t)


def _decode_complete_chunks(bank, t: Transfer) -> None:  # type: ignore[no-untyped-def]
    """Decode every chunk that arrived whole, as a bootloader with one chunk buffer does."""
    pos = 0
    while pos + HEADER.size <= len(t.buffer):
        data_len = HEADER.unpack_from(t.buffer, pos)[2]
        end = pos + HEADER.size + data_len
        if end > len(t.buffer):
            break
        try:
            out = b"".join(chunks(bytes(t.buffer[pos:end])))
        except CompressionError:
            raise Nrc(0x72) from None
        if t.produced + len(out) > t.size:
            raise Nrc(0x71)
        bank.write(t.address + t.produced, out)
        t.produced += len(out)
        pos = end
    del t.buffer[:pos]


def request_transfer_exit(ecu: UdsServer, req: bytes) -> bytes:
    flash = _flash(ecu)
    _require_unlocked(ecu)
    t = ecu.programming.transfer
    if t is None:
        raise Nrc(0x24)
    bank = flash.banks[flash.target]
    if t.mode == "bsdiff4":
        active = flash.banks[flash.active]
        base_len = active.images.get(t.address)
        if base_len is None:
            raise Nrc(0x72)
        try:
            image = bsdiff4.patch(active.read(t.address, base_len), bytes(t.buffer))
        except Exception:  # bsdiff4 raises bare ValueError/RuntimeError on bad patches
            raise Nrc(0x72) from None
        if len(image) != t.size:
            raise Nrc(0x72)
        bank.write(t.address, image)
        t.produced, t.buffer = len(image), bytearray()
    if t.produced != t.size or t.buffer:
        raise Nrc(0x24)
    bank.images[t.address] = t.size
    ecu.programming.downloads.append([t.address, t.size, 0])
    ecu.programming.transfer = None
    flash.save()
    return b"\x77"


# -- routines ----------------------------------------------------------------------------------

def routine_control(ecu: UdsServer, req: bytes) -> list[Reply] | bytes:
    if len(req) < 4 or ecu.flash is None:
        return routine.routine_control(ecu, req)
    p, kind, rid = ecu.ecu.flash, req[1], int.from_bytes(req[2:4], "big")
    head, args = bytes([0x71, kind]) + req[2:4], req[4:]
    if p.preconditions is not None and rid == p.preconditions.id and kind == 1:
        return head + _preconditions(ecu)
    handlers: dict[int, Callable[[UdsServer, bytes, bytes], list[Reply] | bytes]] = {
        p.erase.id: _erase, p.check_memory.id: _check_memory}
    if p.check_dependencies is not None:
        handlers[p.check_dependencies.id] = _check_dependencies
    if p.rollback is not None and p.banks == "ab":
        handlers[p.rollback.id] = _rollback
    handler = handlers.get(rid)
    if handler is None or ecu.session != PROGRAMMING:
        return routine.routine_control(ecu, req)
    if kind != 1:
        raise Nrc(0x12)
    _require_unlocked(ecu)
    return handler(ecu, head, args)


def _preconditions(ecu: UdsServer) -> bytes:
    mv, speed, ignition = ecu.conditions()
    failed = (mv < 11500) | (speed > 0) << 1 | (not ignition) << 2
    status = failed if ecu.ecu.flash.precondition_answer == "failed_bits" else int(bool(failed))
    return bytes([status]) + mv.to_bytes(2, "big") + bytes([min(speed, 255), int(ignition)])


def _erase(ecu: UdsServer, head: bytes, args: bytes) -> list[Reply]:
    flash, p = _flash(ecu), ecu.ecu.flash
    if p.erase.layout == ("address_length",):
        if not args:
            raise Nrc(0x13)
        address, length = _address_length(args[0], args[1:])
    elif p.erase.layout == ("region_index",):
        if len(args) != 1 or args[0] >= len(flash.ranges):
            raise Nrc(0x31)
        address, length = flash.ranges[args[0]].start, flash.ranges[args[0]].length
    else:
        address, length = flash.ranges[0].start, flash.ranges[0].length
    if length == 0 or flash.banks[flash.target].locate(address, length) is None:
        raise Nrc(0x31)
    if not ecu.programming.fingerprint_written:
        raise Nrc(0x22)
    flash.erase(address, length, first_in_session=not ecu.programming.erased)
    ecu.programming.erased.append((address, address + length))
    seconds = math.ceil(length / p.sector_size) * p.erase_ms_per_sector / 1000
    return pending_then(seconds, 0x31, head + b"\x00")


def _check_memory(ecu: UdsServer, head: bytes, args: bytes) -> bytes:
    flash, downloads = _flash(ecu), ecu.programming.downloads
    if not downloads or not args:
        raise Nrc(0x24 if not downloads else 0x13)
    address, size, _ = downloads[-1]
    image = flash.banks[flash.target].read(address, size)
    method, digest = args[0], bytes(args[1:])
    if method == 0x01 and len(digest) == 4:
        ok = zlib.crc32(image).to_bytes(4, "big") == digest
    elif method == 0x02 and len(digest) == 32:
        ok = hashlib.sha256(image).digest() == digest
    else:
        raise Nrc(0x31)
    downloads[-1][2] = int(ok)
    return head + (b"\x00" if ok else b"\x01")


def _check_dependencies(ecu: UdsServer, head: bytes, args: bytes) -> bytes:
    flash = _flash(ecu)
    bank = flash.banks[flash.target]
    done = ecu.programming.downloads
    descriptor = bank.descriptor()
    ok = (bool(done) and all(d[2] for d in done) and descriptor is not None
          and descriptor.security_version >= flash.counter)
    if ok:
        bank.valid = True
        flash.pending = flash.target
        flash.save()
    return head + (b"\x00" if ok else b"\x01")


def _rollback(ecu: UdsServer, head: bytes, args: bytes) -> bytes:
    return head + (b"\x00" if _flash(ecu).activate_previous() else b"\x01")


# -- data by identifier ------------------------------------------------------------------------

def read_data(ecu: UdsServer, req: bytes) -> bytes:
    flash = ecu.flash
    if flash is None:
        return data.read_data(ecu, req)
    p = ecu.ecu.flash
    overlay = dict(ecu.dids)
    if p.anti_rollback_did is not None:
        overlay[p.anti_rollback_did] = flash.counter.to_bytes(4, "big")
    if flash.fingerprint:
        overlay[p.fingerprint_did] = flash.fingerprint
    if flash.in_boot_mode:
        keep = BOOT_DIDS | {p.fingerprint_did, p.anti_rollback_did}
        overlay = {k: v for k, v in overlay.items() if k in keep}
    return read_overlaid(ecu, req, overlay)


def read_overlaid(ecu: UdsServer, req: bytes, overlay: dict[int, bytes]) -> bytes:
    """0x22 answered from `overlay` in place of the ECU's own DIDs; in the application, the
    running image's version stands in its version DIDs (every bootloader convention)."""
    flash = _flash(ecu)
    if not flash.in_boot_mode:
        version = flash.version()
        if version is not None:
            for did in APPLICATION_VERSION_DIDS:
                overlay[did] = version.encode("ascii")
    saved, ecu.dids = ecu.dids, overlay
    try:
        return data.read_data(ecu, req)
    finally:
        ecu.dids = saved


def write_data(ecu: UdsServer, req: bytes) -> bytes:
    flash = ecu.flash
    did = int.from_bytes(req[1:3], "big")
    if flash is None or did != ecu.ecu.flash.fingerprint_did:
        return data.write_data(ecu, req)
    _require_unlocked(ecu)
    value = bytes(req[3:])
    if not 1 <= len(value) <= 64:
        raise Nrc(0x13)
    flash.fingerprint = value
    flash.save()
    ecu.programming.fingerprint_written = True
    return b"\x6e" + req[1:3]


def read_memory(ecu: UdsServer, req: bytes) -> bytes:
    """0x23 ReadMemoryByAddress of the running image, unlocked in the programming session."""
    flash = _flash(ecu)
    _require_unlocked(ecu)
    address, size = _address_length(req[1], req[2:])
    if not 1 <= size <= MAX_READ or flash.banks[flash.active].locate(address, size) is None:
        raise Nrc(0x31)
    return b"\x63" + flash.banks[flash.active].read(address, size)


SERVICES = {
    0x22: ServiceSpec(read_data, ALL, 3, False),
    0x23: ServiceSpec(read_memory, frozenset({PROGRAMMING}), 4, False),
    0x2E: ServiceSpec(write_data, NON_DEFAULT, 4, False),
    0x31: ServiceSpec(routine_control, frozenset({EXTENDED, PROGRAMMING}), 4, True),
    0x34: ServiceSpec(request_download, frozenset({PROGRAMMING}), 5, False),
    0x36: ServiceSpec(transfer_data, frozenset({PROGRAMMING}), 2, False),
    0x37: ServiceSpec(request_transfer_exit, frozenset({PROGRAMMING}), 1, False),
}
