"""Compare a scanned vehicle with its signed, approved baseline.

The local package store (<user data>/packages/*.wspkg) tells which known package brings an
outdated ECU to baseline. On the simulator a newcomer has neither a baseline nor packages,
so the shipped demo specs are signed with the per-user demo PKI on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from workshop.diagnostics.scan import VehicleScan
from workshop.foundation.errors import ConfigError
from workshop.foundation.paths import resources_dir, user_dir
from workshop.packages.baseline import Baseline, EcuVerdict, compare, load_baseline, sign_baseline
from workshop.packages.build import build_package
from workshop.packages.manifest import Manifest
from workshop.packages.verify import verify_package
from workshop.trust.demo import demo_signer, user_demo_pki
from workshop.trust.store import TrustStore
from workshop.uds.identity import EcuIdentity, did_label

PACKAGE_SUFFIX = ".wspkg"
BASELINE_SUFFIX = ".baseline"


def package_store() -> Path:
    return user_dir("packages")


def baseline_store() -> Path:
    return user_dir("baselines")


def trust_store(trust_dir: Path | None) -> TrustStore:
    return TrustStore.load(trust_dir or user_demo_pki().trust_dir)


def ensure_demo_material(vehicle_model: str) -> None:
    """Sign the shipped demo baseline and packages for the simulator, once."""
    signer = None
    for spec in sorted((resources_dir() / "baselines").glob(f"{vehicle_model}-*.toml")):
        out = baseline_store() / (spec.stem + BASELINE_SUFFIX)
        if not out.exists():
            signer = signer or demo_signer()
            sign_baseline(spec, out, signer)
    if not any(package_store().glob(f"*{PACKAGE_SUFFIX}")):
        for spec in sorted((resources_dir() / "packages").glob("*.toml")):
            signer = signer or demo_signer()
            build_package(spec, package_store() / (spec.stem + PACKAGE_SUFFIX), signer)


def find_baseline(vehicle_model: str, trust: TrustStore, *, allow_demo_root: bool,
                  path: Path | None = None) -> Baseline:
    """The given baseline file, else the newest stored one for the vehicle model."""
    if path is not None:
        return load_baseline(path, trust, allow_demo_root=allow_demo_root)
    candidates = sorted(baseline_store().glob(f"*{BASELINE_SUFFIX}"), reverse=True)
    for candidate in candidates:
        baseline = load_baseline(candidate, trust, allow_demo_root=allow_demo_root)
        if baseline.vehicle_model == vehicle_model:
            return baseline
    raise ConfigError(f"no approved baseline for vehicle model {vehicle_model!r}",
                      hint=f"copy the OEM's signed baseline into {baseline_store()} or pass "
                           "--baseline FILE")


def known_packages(trust: TrustStore, *, allow_demo_root: bool) -> list[Manifest]:
    """Manifests of the stored packages that verify; others are ignored, not trusted."""
    manifests = []
    for path in sorted(package_store().glob(f"*{PACKAGE_SUFFIX}")):
        report = verify_package(path, trust, allow_demo_root=allow_demo_root,
                                store_images=False)
        if report.package is not None:
            manifests.append(report.package.manifest)
    return manifests


# What a verdict needs from each ECU: the hardware part number, and a software version.
_NEEDED_DIDS = ((0xF191,), (0xF189, 0xF195))


def _unread(identity: EcuIdentity) -> str:
    """The needed DIDs the ECU refused, with its NRC, e.g. "0xF191 ecuHardwareNumber: NRC
    0x22 conditionsNotCorrect"; empty when everything needed was read or never refused."""
    parts = []
    for alternatives in _NEEDED_DIDS:
        if any(did in identity.values for did in alternatives):
            continue
        parts += [f"0x{did:04X} {did_label(did)}: {identity.failed[did]}"
                  for did in alternatives if did in identity.failed]
    return "; ".join(parts)


def check(scan: VehicleScan, baseline: Baseline, packages: list[Manifest]) -> list[EcuVerdict]:
    ecus: list[Mapping[str, str]] = [
        {"name": e.name, "part_number": e.identity.hardware_number or "",
         "software_version": e.identity.software_version or "",
         "unread": _unread(e.identity)}
        for e in scan.ecus if e.responded]
    return compare(baseline, ecus, packages)
