"""The bytes of the programming routines' arguments and answers, as the profile describes."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass

from workshop.flash.checksums import DIGESTS
from workshop.packages.manifest import Region
from workshop.vehicles import EcuDefinition, MemoryRange
from workshop.vehicles.flash_profile import DEFAULT_TEMPLATE, FlashProfile, RoutineSpec

CHECKSUM_METHODS = {"crc32": 0x01, "sha256": 0x02}
FINGERPRINT_MAGIC = b"WS"
FAILED_BIT_NAMES = ("battery voltage", "vehicle speed", "ignition", "engine")


def address_length(alfid: int, address: int, length: int) -> bytes:
    return (bytes([alfid]) + address.to_bytes(alfid & 0xF, "big")
            + length.to_bytes(alfid >> 4, "big"))


@dataclass(frozen=True)
class ArgValues:
    """What a routine's argument fields are filled from, for one region."""

    alfid: int
    address: int
    length: int
    block: int
    index: int
    image: bytes | None = b""  # None: an encoded payload; the digests `declared` are used
    method: str = "crc32"  # the package's check_memory method (the legacy `checksum` field)
    declared: tuple[tuple[str, bytes], ...] = ()  # digests of the plain image, by name
    signature: bytes | None = None  # the package's signature over the region's image


def memory_range(definition: EcuDefinition, address: int, length: int
                 ) -> tuple[int, MemoryRange | None]:
    """Index and range of the ECU's memory that holds [address, address + length)."""
    for i, m in enumerate(definition.memory):
        if m.start <= address and address + length <= m.end:
            return i, m
    return -1, None


def region_values(definition: EcuDefinition, region: Region, *, erase: bool,
                  image: bytes | None = b"", method: str = "crc32") -> ArgValues:
    address, length = ((region.erase_address, region.erase_length) if erase
                       else (region.address, region.length))
    index, m = memory_range(definition, region.erase_address, region.erase_length)
    block = m.block if m is not None and m.block is not None else index
    declared = (("crc32", region.crc32.to_bytes(4, "big")),
                ("sha256", bytes.fromhex(region.image_sha256)))
    return ArgValues(definition.flash.address_and_length_format, address, length, block,
                     index, image, method, declared,
                     bytes.fromhex(region.signature) if region.signature else None)


def _digest(name: str, v: ArgValues) -> bytes:
    if v.image is not None:
        return DIGESTS[name](v.image)
    found = dict(v.declared).get(name)
    if found is None:
        raise ValueError(f"the package declares no {name} of the plain image")
    return found


def routine_args(layout: tuple[str, ...], v: ArgValues) -> bytes:
    """The routine's arguments, field by field as the profile lays them out."""
    out = b""
    for name in layout:
        if name.startswith("hex:"):
            out += bytes.fromhex(name[4:])
        elif name == "address_length":
            out += address_length(v.alfid, v.address, v.length)
        elif name == "address":
            out += v.address.to_bytes(v.alfid & 0xF, "big")
        elif name == "length":
            out += v.length.to_bytes(v.alfid >> 4, "big")
        elif name in ("block", "region_index"):
            value = v.block if name == "block" else v.index
            if not 0 <= value <= 0xFF:
                raise ValueError(f"range 0x{v.address:X}+{v.length} is in no memory range of "
                                 "the ECU's definition")
            out += bytes([value])
        elif name == "signature":
            if v.signature is None:
                raise ValueError("the package carries no signature for this region")
            out += v.signature
        elif name == "checksum":
            method = v.method if v.method in CHECKSUM_METHODS else "crc32"
            out += bytes([CHECKSUM_METHODS[method]]) + _digest(method, v)
        else:
            out += _digest(name, v)
    return out


def routine_status(answer: bytes) -> int | None:
    """routineInfo/status byte after control type and routine id; None when absent."""
    return answer[3] if len(answer) > 3 else None


@dataclass(frozen=True)
class Preconditions:
    met: bool
    failed: tuple[str, ...]
    battery_mv: int | None
    speed_kmh: int | None
    ignition: bool | None

    def describe(self) -> str:
        readings = []
        if self.battery_mv is not None:
            readings.append(f"battery {self.battery_mv / 1000:.1f} V")
        if self.speed_kmh is not None:
            readings.append(f"speed {self.speed_kmh} km/h")
        if self.ignition is not None:
            readings.append(f"ignition {'on' if self.ignition else 'off'}")
        state = "met" if self.met else "not met: " + ", ".join(self.failed or ("unspecified",))
        return f"{state} ({', '.join(readings) or 'no readings'})"

    def to_json(self) -> dict[str, object]:
        return {"met": self.met, "failed": list(self.failed), "battery_mv": self.battery_mv,
                "speed_kmh": self.speed_kmh, "ignition": self.ignition}


def parse_preconditions(answer: bytes, kind: str) -> Preconditions:
    status = routine_status(answer)
    rest = answer[4:]
    mv = int.from_bytes(rest[0:2], "big") if len(rest) >= 2 else None
    speed = rest[2] if len(rest) >= 3 else None
    ignition = bool(rest[3]) if len(rest) >= 4 else None
    if status is None:
        return Preconditions(False, ("the ECU gave no status",), mv, speed, ignition)
    if kind == "failed_bits":
        failed = tuple(n for i, n in enumerate(FAILED_BIT_NAMES) if status >> i & 1)
        if status >> len(FAILED_BIT_NAMES):
            failed += (f"condition bits 0x{status:02X}",)
        return Preconditions(status == 0, failed, mv, speed, ignition)
    return Preconditions(status == 0, () if status == 0 else (f"status 0x{status:02X}",),
                         mv, speed, ignition)


def _bcd(digits: str) -> bytes:
    return bytes.fromhex(digits)


def fingerprint(technician: str, package_sha256: str, at: dt.datetime | None = None,
                template: tuple[str, ...] = DEFAULT_TEMPLATE) -> bytes:
    """The value of one fingerprint DID, field by field as the template lays it out.

    The default is 16 bytes: magic, date (YYMMDD, BCD), 4 bytes of the technician's id
    hash, 7 of the package hash: enough for the next run to recognise its own interrupted
    flash."""
    when = at or dt.datetime.now(dt.UTC)
    who = hashlib.sha256(technician.encode()).digest()
    package = bytes.fromhex(package_sha256)
    out = b""
    for item in template:
        name, _, arg = item.partition(":")
        if name == "magic":
            out += FINGERPRINT_MAGIC
        elif name == "date_bcd":
            out += _bcd(f"{when.year % 100:02d}{when.month:02d}{when.day:02d}")
        elif name == "tester_hash":
            out += who[:4]
        elif name == "tester_id":
            text = technician.encode("ascii", "replace")[:8]
            out += text.ljust(8, b" ")
        elif name == "workshop_code":  # six BCD digits, stable per technician id
            out += _bcd(f"{int.from_bytes(who[4:8], 'big') % 1_000_000:06d}")
        elif name == "package_hash":
            out += package[:int(arg)]
        elif name == "package_crc32":
            out += zlib.crc32(package).to_bytes(4, "big")
        elif name == "hex":
            out += bytes.fromhex(arg)
    return out


FIELD_WIDTHS = {"magic": 2, "date_bcd": 3, "tester_hash": 4, "tester_id": 8,
                "workshop_code": 3, "package_crc32": 4}


def fingerprint_package(value: bytes | None,
                        template: tuple[str, ...] = DEFAULT_TEMPLATE) -> bytes | None:
    """The package-hash part of a fingerprint this tool wrote with `template`, else None
    (also when the template carries no package hash)."""
    if value is None:
        return None
    widths = [int(arg) if name == "package_hash" else
              len(bytes.fromhex(arg)) if name == "hex" else FIELD_WIDTHS[name]
              for name, _, arg in (f.partition(":") for f in template)]
    if len(value) != sum(widths):
        return None
    at = 0
    for item, width in zip(template, widths, strict=True):
        part = value[at:at + width]
        if item == "magic" and part != FINGERPRINT_MAGIC:
            return None
        if item.startswith("package_hash:"):
            return part
        at += width
    return None


def erase_args(spec: RoutineSpec, definition: EcuDefinition, region: Region) -> bytes:
    """The erase routine's arguments for `region`, as `spec` lays them out."""
    return routine_args(spec.layout, region_values(definition, region, erase=True))


def carries_package(value: bytes | None, profile: FlashProfile, package_sha256: str) -> bool:
    """Whether `value`, read from the profile's `fingerprint_did`, is this tool's fingerprint
    of the package with this hash (in the template the profile writes to that DID)."""
    template = next((f.template for f in profile.fingerprints
                     if f.did == profile.fingerprint_did), DEFAULT_TEMPLATE)
    part = fingerprint_package(value, template)
    return bool(part) and bytes.fromhex(package_sha256).startswith(part or b"")
