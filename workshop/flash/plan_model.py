"""What a flash plan holds: per ECU its checks with their verdicts, its region transfers and
its steps; for the whole plan, the ECUs and why it is blocked. `workshop.flash.plan` makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workshop.foundation.errors import ConfigError
from workshop.packages.images import StoredRegion
from workshop.packages.manifest import EcuUpdate, Region
from workshop.packages.verify import VerifiedPackage
from workshop.vehicles import EcuDefinition, VehicleDefinition
from workshop.vehicles.flash_profile import FlashProfile


@dataclass(frozen=True)
class EcuState:
    """What the ECU said about itself just before planning (see flash.preflight)."""

    name: str
    responded: bool
    software_version: str | None = None
    hardware_number: str | None = None
    anti_rollback: int | None = None
    in_bootloader: bool = False
    fingerprint: bytes | None = None
    error: str | None = None
    boot_version: str | None = None  # the profile's boot_version_did, when it has one


@dataclass
class PlanCheck:
    name: str
    passed: bool
    detail: str
    overridable: bool = False
    overridden: str | None = None  # the technician's reason

    @property
    def blocks(self) -> bool:
        return not self.passed and self.overridden is None

    def to_json(self) -> dict[str, object]:
        return {"check": self.name, "passed": self.passed, "detail": self.detail,
                "overridable": self.overridable, "overridden": self.overridden}


@dataclass(frozen=True)
class RegionTransfer:
    index: int
    region: Region
    mode: str  # plain | lz4 | bsdiff4
    data_format: int  # the 0x34 dataFormatIdentifier
    wire_size: int  # bytes that cross the bus for this region
    erase_s: float
    wire_s: float
    write_s: float


@dataclass
class EcuPlan:
    ecu: str
    definition: EcuDefinition
    update: EcuUpdate
    state: EcuState
    checks: list[PlanCheck] = field(default_factory=list)
    transfers: list[RegionTransfer] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    estimate_s: float = 0.0
    rollback: str | None = None  # how a failed confirmation is undone; None: it cannot be
    resume: bool = False  # completes an interrupted flash of this package
    version_before: str | None = None  # on resume: before the interrupted flash began
    # single-bank rollback: the images of version_before, their hashes proven by a signed
    # package or audit record (services.rollback_images), never by the image store's index
    rollback_images: list[StoredRegion] | None = None

    @property
    def profile(self) -> FlashProfile:
        return self.definition.flash

    @property
    def blocked(self) -> bool:
        return any(c.blocks for c in self.checks)

    @property
    def mode(self) -> str:
        modes = sorted({t.mode for t in self.transfers})
        return "+".join(modes) if modes else "none"

    @property
    def wire_bytes(self) -> int:
        return sum(t.wire_size for t in self.transfers)

    @property
    def image_bytes(self) -> int:
        return sum(t.region.length for t in self.transfers)

    def to_json(self) -> dict[str, object]:
        return {"ecu": self.ecu, "version_before": self.version_before,
                "boot_version": self.state.boot_version,
                "version_after": self.update.new_version, "mode": self.mode,
                "image_bytes": self.image_bytes, "wire_bytes": self.wire_bytes,
                "estimate_s": round(self.estimate_s, 1), "rollback": self.rollback,
                "resume": self.resume, "blocked": self.blocked,
                "checks": [c.to_json() for c in self.checks], "steps": self.steps}


@dataclass
class FlashPlan:
    package: VerifiedPackage
    vehicle: VehicleDefinition
    ecus: list[EcuPlan]
    waves: list[list[str]]  # ECUs of one wave are independent and flashed in parallel
    bus_limit_bps: float
    problems: list[str] = field(default_factory=list)  # plan-wide reasons it is blocked

    @property
    def blocked(self) -> bool:
        return bool(self.problems) or any(e.blocked for e in self.ecus)

    def ecu(self, name: str) -> EcuPlan:
        for e in self.ecus:
            if e.ecu == name:
                return e
        planned = ", ".join(e.ecu for e in self.ecus) or "none"
        raise ConfigError(f"the plan has no ECU named {name!r} (planned: {planned})",
                          hint="a blocked plan plans no ECU; see its problems")

    def blocking_reasons(self) -> list[str]:
        reasons = list(self.problems)
        for e in self.ecus:
            reasons += [f"{e.ecu}: {c.name}: {c.detail}" for c in e.checks if c.blocks]
        return reasons

    @property
    def estimate_s(self) -> float:
        # a blocked plan (package for another model, an ECU the vehicle lacks) plans no ECU
        planned = {e.ecu: e.estimate_s for e in self.ecus}
        return sum(max((planned[n] for n in wave if n in planned), default=0.0)
                   for wave in self.waves)

    def overrides(self) -> dict[str, str]:
        return {f"{e.ecu}.{c.name}": c.overridden for e in self.ecus for c in e.checks
                if c.overridden is not None}

    def to_json(self) -> dict[str, object]:
        m = self.package.manifest
        return {"package": m.id, "package_version": m.version,
                "signer": self.package.chain.describe(), "blocked": self.blocked,
                "problems": self.blocking_reasons(), "waves": self.waves,
                "estimate_s": round(self.estimate_s, 1), "ecus": [e.to_json() for e in self.ecus]}
