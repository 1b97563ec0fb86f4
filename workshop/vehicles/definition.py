"""Typed vehicle definition loaded from TOML.

For a real vehicle only the bus and each ECU's name and addresses are needed; the rest
(identification, DTCs, timing, seed/key) describes a simulated ECU and is optional.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshop.foundation.addressing import ADDRESSING_11BIT, ADDRESSING_29BIT_FIXED, ADDRESSINGS
from workshop.foundation.errors import ConfigError
from workshop.foundation.paths import resources_dir

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
class EcuDefinition:
    name: str
    request_id: int
    response_id: int
    addressing: str = ADDRESSING_11BIT
    fd: bool = False
    identification: dict[int, bytes] = field(default_factory=dict)
    dtcs: tuple[DtcDefinition, ...] = ()
    seed_key: str = "demo-xor"
    p2_ms: int = 50
    p2_star_ms: int = 5000
    s3_ms: int = 5000
    latency_ms: tuple[float, float] = (5.0, 5.0)
    # Declared DTCFormatIdentifier; None: not declared (a tester asks the ECU with 0x19 01,
    # a simulated ECU uses ISO 14229-1).
    dtc_format: int | None = None

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
    source: Path | None = None

    def ecu(self, name: str) -> EcuDefinition:
        for ecu in self.ecus:
            if ecu.name.lower() == name.lower():
                return ecu
        known = ", ".join(e.name for e in self.ecus)
        raise ConfigError(f"vehicle {self.name!r} has no ECU named {name!r}",
                          hint=f"known ECUs: {known}")


def builtin_vehicles() -> list[str]:
    return sorted(p.stem for p in (resources_dir() / "vehicles").glob("*.toml"))


def load_vehicle(name_or_path: str | Path) -> VehicleDefinition:
    """Load a shipped vehicle by name (demo-car, truck) or a definition file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = resources_dir() / "vehicles" / f"{name_or_path}.toml"
    if not path.is_file():
        raise ConfigError(f"no vehicle definition {str(name_or_path)!r}",
                          hint=f"use a file path or one of: {', '.join(builtin_vehicles())}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return _parse_vehicle(raw, path)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"vehicle definition {path} is invalid: {exc!r}",
                          hint="compare it with resources/vehicles/demo-car.toml") from exc


def _hex_bytes(value: Any) -> bytes:
    return bytes.fromhex(value) if isinstance(value, str) else bytes(value)


def _did_value(value: Any) -> bytes:
    """Identification values: text is ASCII, {hex = "..."} is raw bytes."""
    if isinstance(value, dict):
        return _hex_bytes(value["hex"])
    return str(value).encode("ascii")


def _parse_dtc(raw: dict[str, Any]) -> DtcDefinition:
    snapshots = {
        int(rec["record"]): {int(did, 16): _hex_bytes(data) for did, data in rec["dids"].items()}
        for rec in raw.get("snapshots", [])
    }
    extended = {int(k): _hex_bytes(v) for k, v in raw.get("extended", {}).items()}
    return DtcDefinition(code=raw["code"], status=int(raw["status"]),
                         present=bool(raw.get("present", False)), text=raw.get("text", ""),
                         snapshots=snapshots, extended=extended)


def _parse_ecu(raw: dict[str, Any], bus: dict[str, Any], vin: str) -> EcuDefinition:
    addressing = raw.get("addressing", bus.get("addressing", ADDRESSING_11BIT))
    if addressing not in ADDRESSINGS:
        raise ValueError(f"ECU {raw['name']}: addressing must be one of {ADDRESSINGS}")
    if addressing == ADDRESSING_29BIT_FIXED:
        ta, sa = int(raw["address"]), int(bus.get("tester_address", 0xF1))
        request_id, response_id = 0x18DA0000 | ta << 8 | sa, 0x18DA0000 | sa << 8 | ta
    else:
        request_id, response_id = int(raw["request_id"]), int(raw["response_id"])
    ident = {int(did, 16): _did_value(v) for did, v in raw.get("identification", {}).items()}
    if vin and ident:
        ident.setdefault(0xF190, vin.encode("ascii"))
    dtc_format = raw.get("dtc_format", bus.get("dtc_format"))
    if dtc_format is not None and dtc_format not in DTC_FORMATS:
        raise ValueError(f"ECU {raw['name']}: dtc_format must be one of {sorted(DTC_FORMATS)}")
    latency = raw.get("latency_ms", bus.get("latency_ms", [5, 5]))
    if isinstance(latency, int | float):
        latency = [latency, latency]
    return EcuDefinition(
        name=raw["name"], request_id=request_id, response_id=response_id,
        addressing=addressing, fd=bool(raw.get("fd", bus.get("fd", False))),
        identification=ident, dtcs=tuple(_parse_dtc(d) for d in raw.get("dtcs", [])),
        seed_key=raw.get("seed_key", "demo-xor"), p2_ms=int(raw.get("p2_ms", 50)),
        p2_star_ms=int(raw.get("p2_star_ms", 5000)), s3_ms=int(raw.get("s3_ms", 5000)),
        latency_ms=(float(latency[0]), float(latency[1])),
        dtc_format=None if dtc_format is None else DTC_FORMATS[dtc_format],
    )


def _parse_vehicle(raw: dict[str, Any], path: Path) -> VehicleDefinition:
    bus = raw.get("bus", {})
    addressing = bus.get("addressing", ADDRESSING_11BIT)
    vin = raw.get("vin", "")
    ecus = tuple(_parse_ecu(e, bus, vin) for e in raw["ecus"])
    if len({e.name.lower() for e in ecus}) != len(ecus):
        raise ValueError("ECU names must be unique")
    default_functional = 0x7DF if addressing == ADDRESSING_11BIT else 0x18DB33F1
    return VehicleDefinition(
        name=raw.get("name", path.stem), model=raw.get("model", ""),
        bitrate=int(bus.get("bitrate", 500_000)), fd=bool(bus.get("fd", False)),
        data_bitrate=bus.get("data_bitrate"), addressing=addressing,
        functional_id=int(bus.get("functional_id", default_functional)),
        tester_address=int(bus.get("tester_address", 0xF1)), vin=vin, ecus=ecus,
        snapshot_did_sizes={int(k, 16): int(v) for k, v in raw.get("snapshot_dids", {}).items()},
        source=path,
    )
