"""Flash profiles: everything the executor needs to program one ECU, as data.

Real bootloaders differ in routine ids, security levels, argument layouts, data formats and
timings. A profile names them, so that flashing a new ECU type means writing its profile,
never code. A vehicle definition gives defaults in `[flash]` and each ECU may override any
key in `[ecus.flash]`; keys not given keep the ISO 14229 / common-OEM defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from workshop.foundation.errors import ConfigError

# Argument layouts of the routines (what the tester puts after the routine id).
ROUTINE_ARGS = ("none", "address_length", "checksum", "region_index")
# How the preconditions routine reports: one status byte (0 = all met), or a bit set per
# condition that is not met (bit 0 battery voltage, 1 vehicle speed, 2 ignition, 3 engine).
PRECONDITION_ANSWERS = ("status_byte", "failed_bits")
TRANSFER_MODES = ("plain", "lz4", "bsdiff4")
BANKS = ("single", "ab")


@dataclass(frozen=True)
class RoutineSpec:
    id: int
    args: str = "none"


@dataclass(frozen=True)
class FlashProfile:
    extended_session: int = 0x03
    programming_session: int = 0x02
    security_level: int = 0x11  # requestSeed sub-function; sendKey is level + 1
    seed_key: str | None = None  # None: the ECU's own algorithm
    preconditions: RoutineSpec | None = RoutineSpec(0x0204)
    precondition_answer: str = "status_byte"
    erase: RoutineSpec = RoutineSpec(0xFF00, "address_length")
    check_memory: RoutineSpec = RoutineSpec(0x0202, "checksum")
    check_dependencies: RoutineSpec | None = RoutineSpec(0xFF01)
    # A/B only: make the previous bank active again at the next reset (rollback).
    rollback: RoutineSpec | None = RoutineSpec(0xFF02)
    fingerprint_did: int = 0xF15A
    # The ECU's anti-rollback counter (unsigned, big-endian); None: the ECU has none.
    anti_rollback_did: int | None = 0xF1A0
    address_and_length_format: int = 0x44  # ALFID: 4-byte address, 4-byte length
    # dataFormatIdentifier of each transfer mode this bootloader accepts (0x34 byte 1).
    data_formats: dict[str, int] = field(default_factory=lambda: {"plain": 0x00})
    dtc_setting_off: bool = True
    communication_control: bool = True
    max_block_length: int | None = None  # cap on the ECU's maxNumberOfBlockLength
    reset_type: int = 0x01
    banks: str = "single"
    sector_size: int = 4096
    erase_ms_per_sector: float = 20.0
    write_bytes_per_s: float = 100_000.0

    def supports(self, mode: str) -> bool:
        return mode in self.data_formats


def parse_profile(raw: dict[str, Any] | None, base: FlashProfile | None = None,
                  where: str = "flash") -> FlashProfile:
    """`base` with the keys of `raw` applied; every key checked, unknown keys refused."""
    profile = base or FlashProfile()
    if not raw:
        return profile
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    known = {f.name for f in fields(FlashProfile)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}.{key} is not a flash profile key",
                              hint=f"known keys: {', '.join(sorted(known))}")
        changes[key] = _value(key, value, f"{where}.{key}")
    return replace(profile, **changes)


def _value(key: str, value: Any, where: str) -> Any:
    if key in ("preconditions", "check_dependencies", "rollback", "anti_rollback_did") \
            and value is False:
        return None
    if key in ("preconditions", "erase", "check_memory", "check_dependencies", "rollback"):
        if not isinstance(value, dict) or "id" not in value:
            raise ConfigError(f"{where} must be {{ id = 0x..., args = \"...\" }}"
                              + (" or false" if key in ("preconditions", "check_dependencies",
                                                        "rollback") else ""))
        args = value.get("args", "none")
        if args not in ROUTINE_ARGS:
            raise ConfigError(f"{where}.args must be one of {', '.join(ROUTINE_ARGS)}")
        return RoutineSpec(_int(value["id"], f"{where}.id", 0, 0xFFFF), args)
    if key == "data_formats":
        if not isinstance(value, dict) or "plain" not in value:
            raise ConfigError(f"{where} must map transfer modes to dataFormatIdentifiers "
                              "and include plain", hint='e.g. { plain = 0x00, lz4 = 0x10 }')
        bad = set(value) - set(TRANSFER_MODES)
        if bad:
            raise ConfigError(f"{where}: unknown transfer mode {sorted(bad)[0]!r}",
                              hint=f"modes: {', '.join(TRANSFER_MODES)}")
        return {m: _int(v, f"{where}.{m}", 0, 0xFF) for m, v in value.items()}
    if key == "precondition_answer":
        return _choice(value, PRECONDITION_ANSWERS, where)
    if key == "banks":
        return _choice(value, BANKS, where)
    if key == "seed_key":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must name a seed/key algorithm")
        return value
    if key in ("dtc_setting_off", "communication_control"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if key in ("erase_ms_per_sector", "write_bytes_per_s"):
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{where} must be a positive number")
        return float(value)
    if key == "max_block_length":
        return _int(value, where, 8, 0xFFFFFFFF)
    if key in ("anti_rollback_did", "fingerprint_did"):
        return _int(value, where, 0, 0xFFFF)
    if key == "sector_size":
        return _int(value, where, 1, 1 << 24)
    if key == "address_and_length_format":
        alfid = _int(value, where, 0x11, 0xFF)
        if not (1 <= alfid & 0xF <= 5 and 1 <= alfid >> 4 <= 4):
            raise ConfigError(f"{where} 0x{alfid:02X} is not a valid "
                              "addressAndLengthFormatIdentifier",
                              hint="high nibble: length bytes 1-4, low nibble: address bytes "
                                   "1-5, e.g. 0x44")
        return alfid
    return _int(value, where, 0, 0xFF)


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{where} must be an integer in 0x{lo:X}..0x{hi:X}")
    return value


def _choice(value: Any, options: tuple[str, ...], where: str) -> str:
    if value not in options:
        raise ConfigError(f"{where} must be one of {', '.join(options)}")
    return str(value)
