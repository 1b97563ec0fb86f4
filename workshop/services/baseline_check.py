"""The baseline check use case: which baseline applies, which known packages count, the scan
and the comparison. The CLI only parses arguments and prints the result.

The local package store (<user data>/packages/*.wspkg) tells which known package brings an
outdated ECU to baseline. On the simulator a newcomer has neither a baseline nor packages,
so the shipped demo specs are signed with the per-user demo PKI on first use.

Baseline selection: a baseline must be for the vehicle's model; among the stored ones for
the model that verify and are in force (valid_from, else created, not in the future), the
one in force most recently wins. A stored file that cannot be read or verified is skipped
and named in the result's warnings; it does not block the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from workshop.diagnostics.scan import VehicleScan
from workshop.foundation.errors import ConfigError, WorkshopError
from workshop.foundation.paths import file_lock, resources_dir, user_dir, user_home
from workshop.foundation.settings import load_settings
from workshop.packages.baseline import Baseline, EcuVerdict, compare, load_baseline, sign_baseline
from workshop.packages.build import build_package
from workshop.packages.container import MANIFEST, Container
from workshop.packages.manifest import MAX_MANIFEST_BYTES, Manifest, parse_manifest
from workshop.packages.verify import verify_package
from workshop.services import diagnose, trust_policy
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import AdapterConfig
from workshop.trust.certs import utcnow
from workshop.trust.demo import demo_baseline_signer, demo_signer, user_demo_pki
from workshop.trust.store import TrustStore
from workshop.uds.identity import EcuIdentity, did_label
from workshop.vehicles import VehicleDefinition

PACKAGE_SUFFIX = ".wspkg"
BASELINE_SUFFIX = ".baseline"


class BaselineSelectionError(ConfigError):
    """No baseline applies: none for the model, or the one given is for another model."""


@dataclass(frozen=True)
class BaselineChoice:
    baseline: Baseline
    path: Path
    warnings: tuple[str, ...] = ()


@dataclass
class BaselineCheckResult:
    scan: VehicleScan
    choice: BaselineChoice
    verdicts: list[EcuVerdict]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(v.verdict == "approved" for v in self.verdicts)


def package_store() -> Path:
    """Settings' package folder, else the per-user default."""
    return load_settings().folder("package_dir", "packages")


def baseline_store() -> Path:
    return user_dir("baselines")


def _verifies(path: Path, trust: TrustStore) -> bool:
    try:
        load_baseline(path, trust)
    except WorkshopError:
        return False
    return True


def ensure_demo_material(vehicle_model: str) -> None:
    """Sign the shipped demo baseline and packages for the simulator, once (again when the
    stored ones no longer verify, e.g. after the demo PKI was recreated)."""
    with file_lock(user_home() / ".demo-material.lock"):
        trust = TrustStore.load(user_demo_pki().trust_dir)
        for spec in sorted((resources_dir() / "baselines").glob(f"{vehicle_model}-*.toml")):
            out = baseline_store() / (spec.stem + BASELINE_SUFFIX)
            if not _verifies(out, trust):
                sign_baseline(spec, out, demo_baseline_signer())
        specs = sorted((resources_dir() / "packages").glob("*.toml"))
        outs = [package_store() / (spec.stem + PACKAGE_SUFFIX) for spec in specs]
        # the common case, cheaply: every demo package is there and one verifies (they are
        # signed together, so a recreated demo PKI makes them all fail)
        if outs and all(o.is_file() for o in outs) and verify_package(
                outs[0], trust, store_images=False).ok:
            return
        signer = None
        for spec, out in zip(specs, outs, strict=True):
            if out.is_file() and verify_package(out, trust, store_images=False).ok:
                continue
            signer = signer or demo_signer()
            build_package(spec, out, signer)
            # verified once with its images stored: the factory packages' 1.0.0 images are
            # what a failed update of a single-bank ECU is rolled back to
            verify_package(out, trust)


def _in_force(baseline: Baseline, path: Path, at: dt.datetime) -> None:
    start = baseline.effective_from()
    if start > at:
        raise BaselineSelectionError(
            f"baseline {path.name} is valid only from {start:%Y-%m-%d %H:%M} UTC",
            hint="use the baseline in force today")


def find_baseline(vehicle_model: str, trust: TrustStore, *, path: Path | None = None,
                  at: dt.datetime | None = None) -> BaselineChoice:
    """The given baseline file (must be for `vehicle_model` and in force), else the stored
    baseline for the model that came into force last."""
    now = at or utcnow()
    if path is not None:
        baseline = load_baseline(path, trust, at=now)
        if baseline.vehicle_model != vehicle_model:
            raise BaselineSelectionError(
                f"baseline {path.name} is for vehicle model {baseline.vehicle_model!r}, not "
                f"for {vehicle_model!r}",
                hint="pass the baseline of this vehicle's model, or check --vehicle")
        _in_force(baseline, path, now)
        return BaselineChoice(baseline, path)
    warnings: list[str] = []
    candidates: list[tuple[tuple[dt.datetime, str, str], Baseline, Path]] = []
    for candidate in sorted(baseline_store().glob(f"*{BASELINE_SUFFIX}")):
        try:
            baseline = load_baseline(candidate, trust, at=now)
            if baseline.vehicle_model != vehicle_model:
                continue
            _in_force(baseline, candidate, now)
        except WorkshopError as exc:
            warnings.append(f"skipped {candidate.name}: {exc.message}")
            continue
        key = (baseline.effective_from(), baseline.created, candidate.name)
        candidates.append((key, baseline, candidate))
    if not candidates:
        skipped = f" ({len(warnings)} file(s) skipped: {'; '.join(warnings)})" if warnings \
            else ""
        raise BaselineSelectionError(
            f"no approved baseline for vehicle model {vehicle_model!r}{skipped}",
            hint=f"copy the OEM's signed baseline into {baseline_store()} or pass "
                 "--baseline FILE")
    _, baseline, chosen = max(candidates, key=lambda c: c[0])
    return BaselineChoice(baseline, chosen, tuple(warnings))


def check_vehicle(adapter: AdapterConfig, vehicle: VehicleDefinition, *,
                  baseline_path: Path | None = None, trust_dir: Path | None = None
                  ) -> BaselineCheckResult:
    """Choose the baseline, collect the known packages, scan the vehicle and compare."""
    if adapter.is_simulated:
        ensure_demo_material(vehicle.name)
    trust = trust_policy.trust_store(adapter, trust_dir)
    choice = find_baseline(vehicle.name, trust, path=baseline_path)
    packages = stored_packages(trust)
    with VehicleConnection(adapter, vehicle) as conn:
        scan = diagnose.scan(conn)
    return BaselineCheckResult(scan, choice, check(scan, choice.baseline, packages),
                               list(choice.warnings))


def verdicts_for(scan: VehicleScan, adapter: AdapterConfig, vehicle_model: str
                 ) -> list[EcuVerdict]:
    """The baseline verdicts of an existing scan (the app's views, after each reading)."""
    if adapter.is_simulated:
        ensure_demo_material(vehicle_model)
    trust = trust_policy.trust_store(adapter)
    choice = find_baseline(vehicle_model, trust)
    return check(scan, choice.baseline, stored_packages(trust))


def stored_packages(trust: TrustStore) -> dict[str, Manifest]:
    """The stored packages that verify, by the name `workshop flash NAME` and the Update view
    know them (the file name without .wspkg); others are ignored, not trusted."""
    found = {}
    for path in sorted(package_store().glob(f"*{PACKAGE_SUFFIX}")):
        report = verify_package(path, trust, store_images=False)
        if report.package is not None:
            found[path.stem] = report.package.manifest
    return found


def stored_package_with_id(package_id: str) -> Path | None:
    """The stored package whose manifest names itself `package_id` (e.g. the baseline's
    "demo-car-engine-1.1.0" for the store's engine-1.1.0.wspkg). Only finds the file: the
    caller verifies it before any use."""
    for path in sorted(package_store().glob(f"*{PACKAGE_SUFFIX}")):
        try:
            with Container(path) as c:
                if parse_manifest(c.read_small(MANIFEST, MAX_MANIFEST_BYTES)).id == package_id:
                    return path
        except WorkshopError:
            continue
    return None


def known_packages(trust: TrustStore) -> list[Manifest]:
    """Manifests of the stored packages that verify; others are ignored, not trusted."""
    return list(stored_packages(trust).values())


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


def check(scan: VehicleScan, baseline: Baseline,
          packages: list[Manifest] | Mapping[str, Manifest]) -> list[EcuVerdict]:
    """Verdicts per ECU. With `packages` by store name, an outdated ECU's fixing package is
    named as `workshop flash` and the Update view know it, not by its manifest id."""
    ecus: list[Mapping[str, str]] = [
        {"name": e.name, "part_number": e.identity.hardware_number or "",
         "software_version": e.identity.software_version or "",
         "unread": _unread(e.identity)}
        for e in scan.ecus if e.responded]
    if not isinstance(packages, Mapping):
        return compare(baseline, ecus, packages)
    store_name = {m.id: name for name, m in packages.items()}
    out = []
    for v in compare(baseline, ecus, packages.values()):
        name = store_name.get(v.package or "")
        if name is not None and v.package is not None:
            v = replace(v, detail=v.detail.replace(v.package, name), package=name)
        out.append(v)
    return out
