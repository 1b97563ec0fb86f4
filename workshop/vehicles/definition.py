"""Typed vehicle definition loaded from TOML.

For a real vehicle only the bus and each ECU's name and addresses are needed; the rest
(identification, DTCs, timing, seed/key) describes a simulated ECU and is optional.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshop.foundation.addressing import ADDRESSING_11BIT, ADDRESSING_29BIT_FIXED, ADDRESSINGS
from workshop.foundation.errors import ConfigError
from workshop.foundation.names import is_safe_name, safe_name
from workshop.foundation.paths import resources_dir
from workshop.vehicles.data_ids import TableDescriptions, parse_did_description
from workshop.vehicles.doip_addressing import DoipAddressing, DoipAddressingError, parse_doip
from workshop.vehicles.flash_profile import (
    ETHERNET_BLOCK_LENGTH,
    FlashProfile,
    RoutineSpec,
    parse_profile,
    parse_routine,
)
from workshop.vehicles.odx_source import EcuOdx, attach_descriptions

# Bootloader families the simulator implements (workshop.simulator.bootloaders).
SIM_BOOTLOADERS = ("vag", "psa", "polling")
# Signals a simulated ECU can serve as live DIDs (workshop.simulator.live_signals), by the
# name a definition gives them in `sim_live = { F40C = "engine_speed", ... }`.
SIM_SIGNALS = ("engine_speed", "coolant_temperature", "vehicle_speed", "battery_voltage",
               "throttle_position", "engine_load", "intake_air_temperature", "air_flow")
# ISO 14229-1 DTCFormatIdentifier by the name a definition uses (`dtc_format = "..."`).
DTC_FORMATS = {"iso15031-6": 0x00, "iso14229-1": 0x01, "sae-j1939-73": 0x02,
               "iso11992-4": 0x03, "sae-j2012-da-04": 0x04}


@dataclass(frozen=True)
class DtcDefinition:
    code: str  # in the ECU's DTC format: "P030100" (SAE J2012), "SPN 110 FMI 0" (J1939)
    status: int
    present: bool = False  # the fault is still there: re-detected after a clear
    text: str = ""
    snapshots: dict[int, dict[int, bytes]] = field(default_factory=dict)  # rec -> DID -> data
    extended: dict[int, bytes] = field(default_factory=dict)  # record number -> data


@dataclass(frozen=True)
class MemoryRange:
    start: int
    length: int
    # The bootloader's logical block (VAG) or zone (PSA) number for this range; None: its
    # index in the ECU's memory list.
    block: int | None = None
    # Routines of this range where they differ from the ECU's profile.
    erase: RoutineSpec | None = None
    check_memory: RoutineSpec | None = None

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class EcuDefinition:
    name: str
    request_id: int
    response_id: int
    addressing: str = ADDRESSING_11BIT
    fd: bool = False
    identification: dict[int, bytes] = field(default_factory=dict)
    dtcs: tuple[DtcDefinition, ...] = ()
    # Tester's seed/key algorithm: an entry-point name of the `workshop.seedkey` group or
    # "module:function". None: the ECU cannot be unlocked (there is no default).
    seed_key: str | None = None
    # The simulated ECU's own algorithm, when it differs from the name in `seed_key`.
    sim_seed_key: str | None = None
    # The simulated ECU's bootloader family (vag, psa, polling), written to its own
    # convention; None: the generic simulated bootloader that follows the flash profile.
    sim_bootloader: str | None = None
    # DIDs whose simulated value changes with time: DID -> one of SIM_SIGNALS (scaled to
    # bytes by the vehicle's description of the DID).
    sim_live: dict[int, str] = field(default_factory=dict)
    memory: tuple[MemoryRange, ...] = ()  # the ECU's programmable memory, when known
    flash: FlashProfile = field(default_factory=FlashProfile)  # how to program it
    p2_ms: int = 50
    p2_star_ms: int = 5000
    s3_ms: int = 5000
    latency_ms: tuple[float, float] = (5.0, 5.0)
    # Declared DTCFormatIdentifier; None: not declared (a tester asks the ECU with 0x19 01,
    # a simulated ECU uses ISO 14229-1).
    dtc_format: int | None = None
    odx: EcuOdx | None = None  # the ECU's ODX/PDX description (`odx = "file.pdx"`)
    # On the vehicle's Ethernet (`ethernet = true`): reached through the DoIP gateway only,
    # never on CAN; its blocks are up to 64 KiB unless its flash profile says otherwise.
    ethernet: bool = False

    @property
    def logical_address(self) -> int:
        """Target address byte for 29-bit normal-fixed addressing (0x18DA<TA><SA>)."""
        return (self.request_id >> 8) & 0xFF


@dataclass(frozen=True)
class VehicleDefinition:
    name: str
    model: str
    bitrate: int
    fd: bool
    data_bitrate: int | None
    addressing: str
    functional_id: int
    tester_address: int
    vin: str
    ecus: tuple[EcuDefinition, ...]
    snapshot_did_sizes: dict[int, int] = field(default_factory=dict)
    # names, scaling and units of snapshot DIDs and extended data records (data_ids)
    descriptions: TableDescriptions = field(default_factory=TableDescriptions)
    source: Path | None = None
    doip: DoipAddressing = field(default_factory=DoipAddressing)  # over an Ethernet gateway

    def ecu(self, name: str) -> EcuDefinition:
        for ecu in self.ecus:
            if ecu.name.lower() == name.lower():
                return ecu
        known = ", ".join(e.name for e in self.ecus)
        raise ConfigError(f"vehicle {self.name!r} has no ECU named {name!r}",
                          hint=f"known ECUs: {known}")


def builtin_vehicles() -> list[str]:
    return sorted(p.stem for p in (resources_dir() / "vehicles").glob("*.toml"))


# The DTC text forms workshop.uds.dtc.parse_dtc_code reads per format (vehicles sit below
# uds): SAE J2012 for ISO 15031-6 / ISO 14229-1 / J2012-DA, SPN + FMI for SAE J1939-73,
# six hex digits for ISO 11992-4.
_DTC_CODE = re.compile(r"^[PCBU][0-3][0-9A-F]{3}-?([0-9A-F]{2})?$")
_J1939_CODE = re.compile(r"^SPN\s*(\d+)\s*[-/ ]?\s*FMI\s*(\d+)$")
_HEX_CODE = re.compile(r"^(?:0X)?[0-9A-F]{6}$")


class DefinitionError(ValueError):
    """A semantic error at a key path (e.g. `ecus[2].request_id`) of a definition."""


def load_vehicle(name_or_path: str | Path) -> VehicleDefinition:
    """Load a shipped vehicle by name (demo-car, truck, van) or a definition file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = resources_dir() / "vehicles" / f"{safe_name('vehicle', str(name_or_path))}.toml"
    if not path.is_file():
        raise ConfigError(f"no vehicle definition {str(name_or_path)!r}",
                          hint=f"use a file path or one of: {', '.join(builtin_vehicles())}")
    hint = "compare it with resources/vehicles/demo-car.toml"
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read vehicle definition {path}: {exc.strerror}",
                          hint="check the path and its permissions") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"vehicle definition {path} is not UTF-8 text (byte {exc.start})",
                          hint=hint) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"vehicle definition {path}: {_toml_reason(exc)}",
                          hint=hint) from exc
    try:
        return attach_descriptions(_parse_vehicle(raw, path), raw)
    except (DefinitionError, DoipAddressingError) as exc:
        raise ConfigError(f"vehicle definition {path}: {exc}", hint=hint) from exc
    except ConfigError as exc:  # an unsafe name: keep its own hint (the allowed pattern)
        raise ConfigError(f"vehicle definition {path}: {exc.message}", hint=exc.hint) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a case not named above
        raise ConfigError(f"vehicle definition {path} is invalid: {exc!r}", hint=hint) from exc


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    """'line L, column C: reason' (tomllib has lineno/colno only from Python 3.14; before,
    its message ends in "(at line L, column C)")."""
    text = str(exc)
    lineno, colno = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", text)
    if match:
        text, lineno, colno = match.group(1), int(match.group(2)), int(match.group(3))
    return f"line {lineno}, column {colno}: {text}" if lineno is not None else text


# -- typed access with key paths -------------------------------------------------------------

def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", str: "a string", bool: "true or false", float: "a number",
             list: "an array", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _typed(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise DefinitionError(f"{where} must be {_type_name(kind)}, not {value!r}")
    if not isinstance(value, kinds):
        raise DefinitionError(f"{where} must be {_type_name(kind)}, not "
                              f"{type(value).__name__} {value!r}"[:200])
    return value


def _req(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise DefinitionError(f"{where}.{key} is missing".lstrip("."))
    return _typed(table[key], kind, f"{where}.{key}".lstrip("."))


def _opt(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str,
         default: Any) -> Any:
    if key not in table:
        return default
    return _typed(table[key], kind, f"{where}.{key}".lstrip("."))


def _table(table: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    return dict(_opt(table, key, dict, where, {}))


def _tables(table: dict[str, Any], key: str, where: str, *, required: bool = False
            ) -> list[tuple[str, dict[str, Any]]]:
    items = _req(table, key, list, where) if required else _opt(table, key, list, where, [])
    out = []
    for i, item in enumerate(items):
        at = f"{where}.{key}[{i}]".lstrip(".")
        out.append((at, _typed(item, dict, at)))
    return out


def _ranged(value: int, low: int, high: int, where: str) -> int:
    if not low <= value <= high:
        raise DefinitionError(f"{where} is {value}, must be {low}..{high}")
    return value


def _hex_bytes(value: Any, where: str) -> bytes:
    if isinstance(value, str):
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise DefinitionError(f"{where} must be hex digits, not {value!r}") from None
    items = _typed(value, list, where)
    if not all(type(b) is int and 0 <= b <= 0xFF for b in items):
        raise DefinitionError(f"{where} must list byte values 0..255")
    return bytes(items)


def _hex_key(key: str, where: str, bits: int = 16) -> int:
    try:
        value = int(key, 16)
    except ValueError:
        raise DefinitionError(f"{where}: key {key!r} must be a hex number") from None
    return _ranged(value, 0, (1 << bits) - 1, f"{where}.{key}")


def _did_value(value: Any, where: str) -> bytes:
    """Identification values: text is ASCII, {hex = "..."} is raw bytes."""
    if isinstance(value, dict):
        return _hex_bytes(_req(value, "hex", (str, list), where), f"{where}.hex")
    text = str(_typed(value, (str, int, float), where))
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise DefinitionError(f"{where} must be ASCII text (use {{hex = \"..\"}} for raw "
                              "bytes)") from None


def _seed_key_name(value: Any, where: str) -> str:
    name = _typed(value, str, where)
    if not name.strip():
        raise DefinitionError(f"{where} is empty")
    return str(name)


# -- the definition --------------------------------------------------------------------------

def _check_dtc_code(code: str, dtc_format: int | None, where: str) -> None:
    text = code.strip().upper()
    if dtc_format == DTC_FORMATS["sae-j1939-73"]:
        m = _J1939_CODE.match(text)
        if not m or int(m.group(1)) >= 1 << 19 or int(m.group(2)) > 31:
            raise DefinitionError(f"{where}.code {code!r} is not an SAE J1939 DTC "
                                  "(e.g. SPN 110 FMI 0; SPN < 524288, FMI 0-31)")
    elif dtc_format == DTC_FORMATS["iso11992-4"]:
        if not _HEX_CODE.match(text):
            raise DefinitionError(f"{where}.code {code!r}: write ISO 11992-4 DTCs as six hex "
                                  "digits (e.g. 0x123456)")
    elif not _DTC_CODE.match(text):
        raise DefinitionError(f"{where}.code {code!r} is not an SAE J2012 DTC "
                              "(e.g. P030100 or P0301-00)")


def _parse_dtc(raw: dict[str, Any], where: str, dtc_format: int | None) -> DtcDefinition:
    snapshots = {}
    for at, rec in _tables(raw, "snapshots", where):
        dids = {_hex_key(did, f"{at}.dids"): _hex_bytes(data, f"{at}.dids.{did}")
                for did, data in _table(rec, "dids", at).items()}
        snapshots[_ranged(_req(rec, "record", int, at), 0, 0xFF, f"{at}.record")] = dids
    extended = {}
    for k, v in _table(raw, "extended", where).items():
        try:
            number = int(k)
        except ValueError:
            raise DefinitionError(f"{where}.extended: key {k!r} must be a record number") from None
        extended[_ranged(number, 0, 0xFF, f"{where}.extended.{k}")] = _hex_bytes(
            v, f"{where}.extended.{k}")
    code = _req(raw, "code", str, where)
    _check_dtc_code(code, dtc_format, where)
    return DtcDefinition(code=code,
                         status=_ranged(_req(raw, "status", int, where), 0, 0xFF,
                                        f"{where}.status"),
                         present=_opt(raw, "present", bool, where, False),
                         text=_opt(raw, "text", str, where, ""),
                         snapshots=snapshots, extended=extended)


def _parse_memory(raw: dict[str, Any], where: str) -> tuple[MemoryRange, ...]:
    ranges = []
    for at, item in _tables(raw, "memory", where):
        start = _ranged(_req(item, "start", int, at), 0, 2**64 - 1, f"{at}.start")
        length = _ranged(_req(item, "length", int, at), 1, 2**64, f"{at}.length")
        unknown = set(item) - {"start", "length", "block", "erase", "check_memory"}
        if unknown:
            raise DefinitionError(f"{at}.{sorted(unknown)[0]} is not a memory range key "
                                  "(start, length, block, erase, check_memory)")
        block = _opt(item, "block", int, at, None)
        ranges.append(MemoryRange(
            start, length, None if block is None else _ranged(block, 0, 0xFF, f"{at}.block"),
            *(parse_routine(item[k], f"{at}.{k}") if k in item else None
              for k in ("erase", "check_memory"))))
    ranges.sort(key=lambda r: r.start)
    for a, b in itertools.pairwise(ranges):
        if b.start < a.end:
            raise DefinitionError(f"{where}.memory: ranges at 0x{a.start:X} and 0x{b.start:X} "
                                  "overlap")
    return tuple(ranges)


def _parse_ecu(raw: dict[str, Any], bus: dict[str, Any], vin: str, where: str,
               flash: FlashProfile) -> EcuDefinition:
    name = safe_name(f"{where}.name", _req(raw, "name", str, where))
    addressing = _opt(raw, "addressing", str, where,
                      _opt(bus, "addressing", str, "bus", ADDRESSING_11BIT))
    if addressing not in ADDRESSINGS:
        raise DefinitionError(f"{where}.addressing must be one of {', '.join(ADDRESSINGS)}")
    if addressing == ADDRESSING_29BIT_FIXED:
        ta = _ranged(_req(raw, "address", int, where), 0, 0xFF, f"{where}.address")
        sa = _ranged(_opt(bus, "tester_address", int, "bus", 0xF1), 0, 0xFF,
                     "bus.tester_address")
        request_id, response_id = 0x18DA0000 | ta << 8 | sa, 0x18DA0000 | sa << 8 | ta
    else:
        request_id = _ranged(_req(raw, "request_id", int, where), 0, 0x7FF,
                             f"{where}.request_id")
        response_id = _ranged(_req(raw, "response_id", int, where), 0, 0x7FF,
                              f"{where}.response_id")
    ident = {_hex_key(did, f"{where}.identification"):
             _did_value(v, f"{where}.identification.{did}")
             for did, v in _table(raw, "identification", where).items()}
    if vin and ident:
        ident.setdefault(0xF190, vin.encode("ascii"))
    dtc_format = _opt(raw, "dtc_format", str, where, _opt(bus, "dtc_format", str, "bus", None))
    if dtc_format is not None and dtc_format not in DTC_FORMATS:
        raise DefinitionError(f"{where}.dtc_format must be one of {', '.join(DTC_FORMATS)}")
    dtc_format_id = None if dtc_format is None else DTC_FORMATS[dtc_format]
    latency = _opt(raw, "latency_ms", (int, float, list), where,
                   _opt(bus, "latency_ms", (int, float, list), "bus", [5, 5]))
    if isinstance(latency, int | float):
        latency = [latency, latency]
    if len(latency) != 2 or not all(isinstance(x, int | float) and not isinstance(x, bool)
                                    and x >= 0 for x in latency):
        raise DefinitionError(f"{where}.latency_ms must be a number or [low, high] (ms)")
    seed_key = raw.get("seed_key")
    sim_seed_key = raw.get("sim_seed_key")
    sim_bootloader = _opt(raw, "sim_bootloader", str, where, None)
    if sim_bootloader is not None and sim_bootloader not in SIM_BOOTLOADERS:
        raise DefinitionError(f"{where}.sim_bootloader must be one of "
                              f"{', '.join(SIM_BOOTLOADERS)}")
    sim_live = {_hex_key(did, f"{where}.sim_live"): signal
                for did, signal in _table(raw, "sim_live", where).items()}
    for did, signal in sim_live.items():
        if signal not in SIM_SIGNALS:
            raise DefinitionError(f"{where}.sim_live.{did:04X} must be one of "
                                  f"{', '.join(SIM_SIGNALS)}, not {str(signal)[:40]!r}")
    ethernet = _opt(raw, "ethernet", bool, where, False)
    profile = parse_profile(_table(raw, "flash", where), flash, f"{where}.flash")
    if ethernet and profile.max_block_length is None:
        profile = dataclasses.replace(profile, max_block_length=ETHERNET_BLOCK_LENGTH)
    return EcuDefinition(
        name=name, request_id=request_id, response_id=response_id, ethernet=ethernet,
        addressing=addressing, fd=_opt(raw, "fd", bool, where, _opt(bus, "fd", bool, "bus",
                                                                      False)),
        identification=ident,
        dtcs=tuple(_parse_dtc(d, at, dtc_format_id) for at, d in _tables(raw, "dtcs", where)),
        seed_key=None if seed_key is None else _seed_key_name(seed_key, f"{where}.seed_key"),
        sim_seed_key=(None if sim_seed_key is None
                      else _seed_key_name(sim_seed_key, f"{where}.sim_seed_key")),
        sim_bootloader=sim_bootloader,
        sim_live=sim_live,
        memory=_parse_memory(raw, where),
        flash=profile,
        p2_ms=_ranged(_opt(raw, "p2_ms", int, where, 50), 1, 0xFFFF, f"{where}.p2_ms"),
        p2_star_ms=_ranged(_opt(raw, "p2_star_ms", int, where, 5000), 1, 655350,
                           f"{where}.p2_star_ms"),
        s3_ms=_ranged(_opt(raw, "s3_ms", int, where, 5000), 1, 600_000, f"{where}.s3_ms"),
        latency_ms=(float(latency[0]), float(latency[1])),
        dtc_format=dtc_format_id,
    )


def _parse_vehicle(raw: dict[str, Any], path: Path) -> VehicleDefinition:
    bus = _table(raw, "bus", "")
    addressing = _opt(bus, "addressing", str, "bus", ADDRESSING_11BIT)
    if addressing not in ADDRESSINGS:
        raise DefinitionError(f"bus.addressing must be one of {', '.join(ADDRESSINGS)}")
    vin = _opt(raw, "vin", str, "", "")
    if not vin.isascii():
        raise DefinitionError("vin must be ASCII text")
    flash = parse_profile(_table(raw, "flash", ""), None, "flash")
    tables = _tables(raw, "ecus", "", required=True)
    ecus = tuple(_parse_ecu(e, bus, vin, at, flash) for at, e in tables)
    seen: dict[str, int] = {}
    for i, e in enumerate(ecus):
        if e.name.lower() in seen:
            raise DefinitionError(f"ecus[{i}].name {e.name!r} repeats ecus[{seen[e.name.lower()]}]"
                                  " (ECU names must be unique, ignoring case)")
        seen[e.name.lower()] = i
    default_functional = 0x7DF if addressing == ADDRESSING_11BIT else 0x18DB33F1
    name = _opt(raw, "name", str, "", path.stem)
    if "name" not in raw and not is_safe_name(name):
        raise DefinitionError(f"the file name gives the vehicle name {name!r}; set name = "
                              "\"...\" in the file")
    data_bitrate = _opt(bus, "data_bitrate", int, "bus", None)
    try:
        described = {_hex_key(k, "snapshot_dids"): parse_did_description(v, f"snapshot_dids.{k}")
                     for k, v in _table(raw, "snapshot_dids", "").items()}
    except ValueError as exc:
        raise DefinitionError(str(exc)) from None
    snapshot_dids = {did: d.size for did, d in described.items()}
    extended = {}
    for k, v in _table(raw, "extended_records", "").items():
        try:
            number = int(k, 0)
            extended[number] = parse_did_description(v, f"extended_records.{k}")
        except ValueError as exc:
            raise DefinitionError(str(exc) if "extended_records" in str(exc) else
                                  f"extended_records: key {k!r} must be a record number") \
                from None
        _ranged(number, 1, 0xEF, f"extended_records.{k}")
    return VehicleDefinition(
        name=safe_name("name", name), model=_opt(raw, "model", str, "", ""),
        bitrate=_ranged(_opt(bus, "bitrate", int, "bus", 500_000), 1, 10_000_000,
                        "bus.bitrate"),
        fd=_opt(bus, "fd", bool, "bus", False), data_bitrate=data_bitrate, addressing=addressing,
        functional_id=_ranged(_opt(bus, "functional_id", int, "bus", default_functional), 0,
                              0x1FFFFFFF, "bus.functional_id"),
        tester_address=_ranged(_opt(bus, "tester_address", int, "bus", 0xF1), 0, 0xFF,
                               "bus.tester_address"),
        vin=vin, ecus=ecus, snapshot_did_sizes=snapshot_dids,
        descriptions=TableDescriptions(described, extended), source=path,
        doip=parse_doip(raw, ecus, [t for _, t in tables]),
    )
