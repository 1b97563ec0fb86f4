"""What every simulated bootloader shares: the convention record, the unlock check, the
start of a download, and what 0x22 shows in the bootloader and the application."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workshop.simulator.protocol import PROGRAMMING, Nrc, ServiceSpec

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

DEFAULT_BLOCK_LENGTH = 4095  # what one classic ISO-TP message carries
FD_BLOCK_LENGTH = 16386  # a 16 KiB buffer, with SID and counter


@dataclass(frozen=True)
class Convention:
    name: str
    security_level: int  # the requestSeed level that unlocks the download
    write_bytes_per_s: float
    block_length: int | None = None  # maxNumberOfBlockLength; None: by classic / FD
    power_on_delay_s: float = 0.0  # requestSeed answers NRC 0x37 this long after boot
    banks: str = "single"
    other_levels: frozenset[int] = frozenset()  # further requestSeed levels it accepts
    services: Mapping[int, ServiceSpec] = field(default_factory=dict)


def need(ecu: UdsServer, level: int) -> None:
    if ecu.session != PROGRAMMING:
        raise Nrc(0x7F)
    if ecu.unlocked != level:
        raise Nrc(0x33)


def block_in(ecu: UdsServer, number: int) -> tuple[int, int]:
    """Address and length of the memory range with this logical block / zone number."""
    flash = ecu.flash
    assert flash is not None
    for i, r in enumerate(flash.ranges):
        if (r.block if r.block is not None else i) == number:
            return r.start, r.length
    raise Nrc(0x31)


def begin_download(ecu: UdsServer, mode: str, address: int, size: int) -> bytes:
    from workshop.simulator.services.programming import Transfer

    flash = ecu.flash
    assert flash is not None
    if size == 0 or flash.banks[flash.target].locate(address, size) is None:
        raise Nrc(0x31)
    if not any(a <= address and address + size <= b for a, b in ecu.programming.erased):
        raise Nrc(0x70)
    ecu.programming.transfer = Transfer(mode, address, size)
    block = ecu.convention.block_length or (FD_BLOCK_LENGTH if ecu.ecu.fd
                                             else DEFAULT_BLOCK_LENGTH)
    return bytes([0x74, 0x20]) + block.to_bytes(2, "big")


def read_data(ecu: UdsServer, req: bytes, *, boot_dids: frozenset[int],
              boot_nrc: int) -> bytes:
    """0x22 with the flash state overlaid: the version of the running image and the
    fingerprints; in the bootloader only `boot_dids`, the application's refused with
    `boot_nrc`."""
    flash = ecu.flash
    assert flash is not None
    overlay = dict(ecu.dids)
    overlay.update(flash.fingerprints)
    if flash.in_boot_mode:
        did = int.from_bytes(req[1:3], "big")
        if did not in boot_dids and did not in flash.fingerprints:
            raise Nrc(boot_nrc)
    from workshop.simulator.services.programming import read_overlaid

    return read_overlaid(ecu, req, overlay)


def checks_passed(ecu: UdsServer) -> bool:
    """Every download of this session verified and its image newer than the counter."""
    flash = ecu.flash
    assert flash is not None
    done = ecu.programming.downloads
    descriptor = flash.banks[flash.target].descriptor()
    return (bool(done) and all(d[2] for d in done) and descriptor is not None
            and descriptor.security_version >= flash.counter)


def activate(ecu: UdsServer) -> None:
    """The new image starts at the next reset."""
    flash = ecu.flash
    assert flash is not None
    flash.banks[flash.target].valid = True
    flash.pending = flash.target
    flash.save()
