"""Signed test packages for the demo-car ECUs, built with the real builder and demo signer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workshop.packages.build import build_package
from workshop.packages.verify import VerifiedPackage, open_verified
from workshop.services import trust_policy
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import demo_signer

# name -> (request id, hardware part number, first memory address)
DEMO_ECUS = {
    "ENGINE": (0x7E0, "DC-ENG-HW-100", 0x08000000),
    "TRANSMISSION": (0x7E1, "DC-TRA-HW-100", 0x08000000),
    "ABS": (0x7E2, "DC-ABS-HW-100", 0x00010000),
    "AIRBAG": (0x7E3, "DC-AIR-HW-100", 0x00010000),
    "BODY": (0x7E4, "DC-BOD-HW-100", 0x00020000),
    "INSTRUMENT": (0x7E5, "DC-INS-HW-100", 0x00020000),
    "GATEWAY": (0x7E6, "DC-GAT-HW-100", 0x00000000),
    # on Ethernet, in the demo-car variant of tests.integration.vehicles.ETHERNET_HEADUNIT
    "HEADUNIT": (0x6F0, "DC-HU-HW-100", 0x08000000),
}


@dataclass
class Update:
    ecu: str
    version: str = "1.1.0"
    from_versions: list[str] = field(default_factory=lambda: ["1.0.0"])
    security_version: int = 2
    size: int = 8192
    hardware: str | None = None
    depends_on: list[str] = field(default_factory=list)
    check_memory: str = "crc32"
    address: int | None = None  # request id the package targets (default: the real one)


def spec_text(pkg_id: str, updates: list[Update], models: str = '["demo-car"]') -> str:
    lines = ["[package]", f'id = "{pkg_id}"', 'version = "1"', 'release_notes = "test"',
             f"vehicle_models = {models}", 'expires = "2099-01-01T00:00:00+00:00"', ""]
    for u in updates:
        req, hw, start = DEMO_ECUS[u.ecu]
        lines += ["[[ecu]]", f'name = "{u.ecu}"', f"address = 0x{u.address or req:X}",
                  f'hardware_part_numbers = ["{u.hardware or hw}"]',
                  f"from_versions = {u.from_versions!r}".replace("'", '"'),
                  f'new_version = "{u.version}"', f"security_version = {u.security_version}",
                  f'check_memory = "{u.check_memory}"',
                  f"depends_on = {u.depends_on!r}".replace("'", '"'), "",
                  "[[ecu.region]]", f"address = 0x{start:X}", f"generate_size = {u.size}", ""]
    return "\n".join(lines)


def build(folder: Path, pkg_id: str, updates: list[Update], *,
          delta_from: Path | None = None, models: str = '["demo-car"]') -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / f"{pkg_id}.toml"
    spec.write_text(spec_text(pkg_id, updates, models))
    out = folder / f"{pkg_id}.wspkg"
    build_package(spec, out, demo_signer(), delta_from=delta_from)
    return out


def verified(path: Path) -> VerifiedPackage:
    return open_verified(path, trust_policy.trust_store(AdapterConfig(), None))
