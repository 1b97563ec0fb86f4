"""The bytes of the programming routines' arguments and answers, as the profile describes."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass

from workshop.packages.manifest import Region
from workshop.vehicles import EcuDefinition
from workshop.vehicles.flash_profile import RoutineSpec

CHECKSUM_METHODS = {"crc32": 0x01, "sha256": 0x02}
FINGERPRINT_MAGIC = b"WS"
FAILED_BIT_NAMES = ("battery voltage", "vehicle speed", "ignition", "engine")


def address_length(alfid: int, address: int, length: int) -> bytes:
    return (bytes([alfid]) + address.to_bytes(alfid & 0xF, "big")
            + length.to_bytes(alfid >> 4, "big"))


def erase_args(spec: RoutineSpec, definition: EcuDefinition, region: Region) -> bytes:
    if spec.args == "address_length":
        return address_length(definition.flash.address_and_length_format,
                              region.erase_address, region.erase_length)
    if spec.args == "region_index":
        for i, m in enumerate(definition.memory):
            if m.start <= region.erase_address and region.erase_address + region.erase_length \
                    <= m.end:
                return bytes([i])
        raise ValueError(f"erase range 0x{region.erase_address:X} is in no memory range")
    return b""


def checksum_args(method: str, image: bytes) -> bytes:
    if method == "sha256":
        return bytes([CHECKSUM_METHODS["sha256"]]) + hashlib.sha256(image).digest()
    return bytes([CHECKSUM_METHODS["crc32"]]) + zlib.crc32(image).to_bytes(4, "big")


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


def fingerprint(technician: str, package_sha256: str, at: dt.datetime | None = None) -> bytes:
    """16 bytes: magic, date (YYMMDD, BCD), 4 bytes of the technician's id hash, 7 of the
    package hash: enough for the next run to recognise its own interrupted flash."""
    when = at or dt.datetime.now(dt.UTC)
    date = bytes(int(f"{v:02d}", 16) for v in (when.year % 100, when.month, when.day))
    who = hashlib.sha256(technician.encode()).digest()[:4]
    return FINGERPRINT_MAGIC + date + who + bytes.fromhex(package_sha256)[:7]


def fingerprint_package(value: bytes | None) -> bytes | None:
    """The package-hash part of a fingerprint this tool wrote, else None."""
    if value is None or len(value) != 16 or not value.startswith(FINGERPRINT_MAGIC):
        return None
    return value[9:]
