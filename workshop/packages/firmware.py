"""Firmware inputs (raw binary + load address, Intel HEX, Motorola S-record) -> regions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import bincopy

from workshop.packages.errors import BuildSpecError

HEX_SUFFIXES = {".hex", ".ihex", ".ihx"}
SREC_SUFFIXES = {".s19", ".s28", ".s37", ".srec", ".mot"}


@dataclass(frozen=True)
class ImageRegion:
    address: int
    data: bytes


def _reject_universal_hex(text: str, path: Path) -> None:
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if len(line) >= 9 and line.startswith(":"):
            try:
                rtype = int(line[7:9], 16)
            except ValueError:
                continue
            if rtype > 5:
                raise BuildSpecError(
                    f"firmware check failed: {path} line {lineno} uses Intel HEX record type "
                    f"0x{rtype:02X}; this is a Universal Hex (custom record types)",
                    hint="extract the image for one target into a plain Intel HEX first")


def load_firmware(path: Path, load_address: int | None = None) -> list[ImageRegion]:
    """Read a firmware file into contiguous regions sorted by address."""
    suffix = path.suffix.lower()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BuildSpecError(f"cannot read firmware {path}: {exc.strerror}") from exc
    if suffix == ".bin":
        if load_address is None:
            raise BuildSpecError(f"firmware check failed: raw binary {path} needs a load "
                                 "address", hint="set load_address in the spec region")
        return [ImageRegion(load_address, raw)]
    bf = bincopy.BinFile()
    try:
        text = raw.decode("ascii")
        if suffix in HEX_SUFFIXES:
            _reject_universal_hex(text, path)
            bf.add_ihex(text)
        elif suffix in SREC_SUFFIXES:
            bf.add_srec(text)
        else:
            raise BuildSpecError(f"firmware check failed: unknown firmware type {suffix!r}",
                                 hint="use .bin (with load_address), .hex or .s19/.srec")
    except BuildSpecError:
        raise
    except (UnicodeDecodeError, bincopy.Error, ValueError) as exc:
        raise BuildSpecError(f"firmware check failed: {path} is malformed: {exc}") from exc
    return [ImageRegion(seg.minimum_address, bytes(seg.data)) for seg in bf.segments]


def generate_image(seed: str, size: int) -> bytes:
    """Deterministic pseudo-random sample image (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])
