"""Package verification. Nothing from the payloads is handed out before every check passed:
payload bytes are only reachable through a VerifiedPackage, which only `verify_package`
creates, and only after the whole package verified.

The signer must chain to a firmware root of the given trust store (Purpose.FIRMWARE, EKU
codeSigning). Which roots that store holds (the demo roots only for the simulator) is decided
by workshop.services.trust_policy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from workshop.packages import images
from workshop.packages.container import CHAIN, MANIFEST, SIGNATURE, Container
from workshop.packages.errors import (
    EcuMismatchError,
    MemoryMapError,
    PackageError,
    PackageExpiredError,
    PackageFormatError,
    PackageSignatureError,
    PayloadHashError,
)
from workshop.packages.manifest import MAX_MANIFEST_BYTES, Manifest, Region, parse_manifest
from workshop.trust.certs import load_certs_pem, utcnow
from workshop.trust.chain import VerifiedChain, verify_chain
from workshop.trust.errors import TrustError
from workshop.trust.keys import verify_signature
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore
from workshop.vehicles import VehicleDefinition

MAX_SIGNATURE = 4096
MAX_CHAIN = 64 * 1024


@dataclass
class Check:
    name: str
    passed: bool | None  # None: not run because an earlier check failed
    detail: str = ""


@dataclass
class VerificationReport:
    path: Path
    checks: list[Check] = field(default_factory=list)
    package: VerifiedPackage | None = None
    error: PackageError | None = None

    @property
    def ok(self) -> bool:
        return self.package is not None and all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, object]:
        return {"package": str(self.path), "ok": self.ok,
                "checks": [{"check": c.name, "passed": c.passed, "detail": c.detail}
                           for c in self.checks]}


CHECKS = ["container", "chain", "signature", "manifest", "expiry", "payloads"]


class VerifiedPackage:
    """A package that passed every check. Payload reads re-hash and fail closed."""

    def __init__(self, _token: object, path: Path, manifest: Manifest,
                 chain: VerifiedChain) -> None:
        if _token is not _TOKEN:
            raise TypeError("VerifiedPackage is only created by verify_package")
        self.path = path
        self.manifest = manifest
        self.chain = chain

    def read_payload(self, file: str) -> bytes:
        ref = next((p for p in self.manifest.payloads() if p.file == file), None)
        if ref is None:
            raise PackageFormatError(f"package has no payload {file!r}")
        with Container(self.path) as c:
            data = b"".join(c.iter_chunks(file, ref.size))
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise PayloadHashError(f"payload check failed: {file!r} changed after verification",
                                   hint="the package file was modified; verify it again")
        return data

    def region_image(self, region: Region) -> bytes:
        """The full image for `region`: the full payload, or base image + bsdiff4 delta."""
        if region.payload is not None:
            return self.read_payload(region.payload.file)
        assert region.delta is not None
        return images.apply_delta(region.delta.base_sha256,
                                  self.read_payload(region.delta.payload.file),
                                  region.image_sha256)


_TOKEN = object()


def _run(report: VerificationReport, trust: TrustStore,
         at: dt.datetime) -> tuple[Manifest, VerifiedChain]:
    checks = iter(CHECKS)

    def passed(detail: str) -> None:
        report.checks.append(Check(next(checks), True, detail))

    with Container(report.path) as c:
        unknown = [n for n in c.entries if n not in (MANIFEST, SIGNATURE, CHAIN)]
        manifest_bytes = c.read_small(MANIFEST, MAX_MANIFEST_BYTES)
        signature = c.read_small(SIGNATURE, MAX_SIGNATURE)
        chain_pem = c.read_small(CHAIN, MAX_CHAIN)
        passed(f"{len(c.entries)} entries in the canonical layout")
        try:
            chain = verify_chain(load_certs_pem(chain_pem), trust, purpose=Purpose.FIRMWARE,
                                 at=at)
            passed(chain.describe())
            verify_signature(chain.leaf.public_key(), signature, manifest_bytes)
        except TrustError as exc:
            raise PackageSignatureError(exc.message, hint=exc.hint) from exc
        passed("signature over the exact manifest bytes is valid")
        manifest = parse_manifest(manifest_bytes)  # only signed bytes are parsed
        declared = {p.file for p in manifest.payloads()}
        extra = sorted(set(unknown) - declared)
        if extra:
            raise PackageFormatError(f"manifest check failed: entries not listed in the "
                                     f"manifest: {', '.join(extra[:5])}")
        passed(f"schema {manifest.schema}, package {manifest.id} {manifest.version}")
        expires = manifest.expires_at()
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if expires is not None and at > expires:
            raise PackageExpiredError(f"expiry check failed: package expired on {expires:%Y-%m-%d}",
                                      hint="obtain a current package")
        passed(f"expires {manifest.expires}" if manifest.expires else "no expiry")
        total = 0
        for ref in manifest.payloads():
            if c.sha256(ref.file, ref.size) != ref.sha256:
                raise PayloadHashError(f"payload check failed: SHA-256 of {ref.file!r} differs "
                                       "from the manifest",
                                       hint="the package is corrupt or altered; do not flash it")
            total += ref.size
        passed(f"{len(manifest.payloads())} payload(s), {total} bytes, SHA-256 match")
    return manifest, chain


def verify_package(path: Path, trust: TrustStore, *, at: dt.datetime | None = None,
                   store_images: bool = True) -> VerificationReport:
    """Run every check; never raises PackageError (failures are in the report).

    On success, full region images are added to the local image store (delta bases).
    """
    report = VerificationReport(Path(path))
    try:
        manifest, chain = _run(report, trust, at or utcnow())
    except PackageError as exc:
        name = CHECKS[len(report.checks)]
        report.checks.append(Check(name, False, exc.message))
        report.checks.extend(Check(n, None, "not run") for n in CHECKS[len(report.checks):])
        report.error = exc
        return report
    report.package = VerifiedPackage(_TOKEN, report.path, manifest, chain)
    if store_images:
        store_images_of(report.package)
    return report


def store_images_of(package: VerifiedPackage) -> None:
    """Put every full region image into the local image store and index it by ECU and
    version; an ECU whose images are all available (delta bases included) gets indexed."""
    for ecu in package.manifest.ecus:
        regions: list[images.StoredRegion] = []
        for region in ecu.regions:
            if region.payload is not None:
                images.put_image(package.read_payload(region.payload.file))
            if (images.store_dir() / region.image_sha256).is_file():
                regions.append(images.StoredRegion(region.image_sha256, region.address,
                                                   region.length, region.erase_address,
                                                   region.erase_length))
        if len(regions) == len(ecu.regions):
            images.remember_version(ecu.name, ecu.new_version, regions)


def open_verified(path: Path, trust: TrustStore, *,
                  at: dt.datetime | None = None) -> VerifiedPackage:
    """verify_package, raising the first failure's PackageError."""
    report = verify_package(path, trust, at=at)
    if report.package is None:
        assert report.error is not None
        raise report.error
    return report.package


def check_ecus(manifest: Manifest, vehicle_ecus: list[str]) -> None:
    """Raise EcuMismatchError unless every ECU in the package exists on the vehicle."""
    missing = [e.name for e in manifest.ecus if e.name not in vehicle_ecus]
    if missing:
        raise EcuMismatchError(f"ECU check failed: package targets {', '.join(missing)}, "
                               f"not present on this vehicle ({', '.join(vehicle_ecus)})",
                               hint="use a package made for this vehicle")


def check_vehicle(manifest: Manifest, vehicle: VehicleDefinition) -> None:
    """check_ecus, then every region and erase region inside its ECU's memory map, when the
    vehicle definition gives one (`memory = [{start, length}]` per ECU)."""
    check_ecus(manifest, [e.name for e in vehicle.ecus])
    for update in manifest.ecus:
        memory = vehicle.ecu(update.name).memory
        if not memory:
            continue
        for i, r in enumerate(update.regions):
            for start, length, what in ((r.address, r.length, "region"),
                                        (r.erase_address, r.erase_length, "erase region")):
                if not any(m.start <= start and start + length <= m.end for m in memory):
                    known = ", ".join(f"0x{m.start:X}..0x{m.end:X}" for m in memory)
                    raise MemoryMapError(
                        f"memory map check failed: {update.name} regions[{i}] {what} "
                        f"0x{start:X}..0x{start + length:X} is not inside the ECU's memory "
                        f"({known})", hint="use a package made for this ECU")
