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


FORMATS = ("bin", "ihex", "srec")  # a spec region's `format`, when the name does not say
FORMAT_HINT = ('say what it is in the spec region: format = "bin" (a raw image, e.g. a UEFI '
               '.fd or a .img, with load_address), "ihex" or "srec"')


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise BuildSpecError(f"firmware check failed: format {fmt!r} for {path.name} is "
                                 f"not one of {', '.join(FORMATS)}", hint=FORMAT_HINT)
        return fmt
    suffix = path.suffix.lower()
    if suffix == ".bin":
        return "bin"
    if suffix in HEX_SUFFIXES:
        return "ihex"
    if suffix in SREC_SUFFIXES:
        return "srec"
    raise BuildSpecError(f"firmware check failed: {path.name}: the file name does not say "
                         f"which firmware format it is ({suffix or 'no suffix'})",
                         hint=FORMAT_HINT)


def load_firmware(path: Path, load_address: int | None = None,
                  fmt: str | None = None) -> list[ImageRegion]:
    """Read a firmware file into contiguous regions sorted by address. `fmt` ("bin", "ihex",
    "srec") says the format where the file's suffix does not (.bin, .hex, .s19...)."""
    if path.is_dir():
        raise BuildSpecError(f"firmware check failed: {path} is a folder, not a firmware file",
                             hint="name the firmware file itself in the spec region")
    kind = _format_of(path, fmt)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BuildSpecError(f"cannot read firmware {path}: {exc.strerror}") from exc
    if kind == "bin":
        if load_address is None:
            raise BuildSpecError(f"firmware check failed: raw binary {path} needs a load "
                                 "address", hint="set load_address in the spec region")
        return [ImageRegion(load_address, raw)]
    bf = bincopy.BinFile()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise BuildSpecError(
            f"firmware check failed: {path} is not text (byte {exc.start} is 0x"
            f"{raw[exc.start]:02X}), but {'Intel HEX' if kind == 'ihex' else 'S-record'} "
            "files are ASCII text",
            hint='a raw image needs format = "bin" and load_address in the spec region'
        ) from exc
    try:
        if kind == "ihex":
            _reject_universal_hex(text, path)
            bf.add_ihex(text)
        else:
            bf.add_srec(text)
    except BuildSpecError:
        raise
    except (bincopy.Error, ValueError) as exc:
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
