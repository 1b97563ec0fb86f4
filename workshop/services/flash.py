"""Reflash as the CLI and the app use it: verify the package, read the ECUs, plan, run,
and find and finish interrupted flashes.

Nothing reaches an ECU before `prepare` has verified the package (signature, chain, expiry,
payload hashes) against the trust store this adapter is allowed (services.trust_policy) and
the plan has checked target, hardware, version, anti-rollback, baseline and transfer mode.
A run holds the vehicle's flash lock (flash.lock: one flash per vehicle across processes) and
first closes what a crashed earlier run left open (services.flash_records); resume is in
services.flash_resume.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workshop.flash import codec
from workshop.flash.executor import Executor, FlashJob, package_sha256
from workshop.flash.lock import vehicle_flash_lock
from workshop.flash.plan import EcuState, FlashPlan, PlanInputs, make_plan
from workshop.flash.preflight import read_preconditions, read_state
from workshop.flash.result import FlashResult
from workshop.foundation.errors import ConfigError, WorkshopError
from workshop.foundation.events import CancelToken, EventSink, ignore_events
from workshop.foundation.names import UnsafeNameError, inside, safe_name
from workshop.packages.baseline import Baseline
from workshop.packages.verify import VerificationReport, verify_package
from workshop.services import diagnose, trust_policy
from workshop.services.audit_trail import open_audit_log, technician
from workshop.services.baseline_check import (
    PACKAGE_SUFFIX,
    ensure_demo_material,
    find_baseline,
    package_store,
    stored_package_with_id,
)
from workshop.services.connection import VehicleConnection
from workshop.services.flash_records import RollbackImages, close_interrupted, signed_log
from workshop.services.flash_resume import prepare_resume, resumable_flashes
from workshop.services.identity import PassphraseSource, terminal_passphrase
from workshop.services.keep_awake import KeepAwake
from workshop.transport.busrate import BusRateModel
from workshop.transport.doip_codec import doip_ceiling_bps

__all__ = ["FlashPreparation", "find_package", "prepare_flash", "prepare_resume",
           "resumable_flashes", "run_flash"]


@dataclass
class FlashPreparation:
    """The verification report, and the plan when the package verified."""

    report: VerificationReport
    plan: FlashPlan | None
    vin: str | None = None
    dtcs_before: dict[str, list[str] | None] = field(default_factory=dict)
    package_sha256: str = ""
    # resume: ECU -> seq of the signed flash intent it finishes (dtcs_before come from it)
    resume_of: dict[str, int] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.plan is not None and not self.plan.blocked

    def to_json(self) -> dict[str, object]:
        return {"verification": self.report.to_dict(),
                "plan": self.plan.to_json() if self.plan else None}


def find_package(name_or_path: str, *, simulated: bool = False, vehicle: str = "") -> Path:
    """A package file, or the name of one in the local package store (which the simulator's
    demo packages fill on first use)."""
    if simulated:
        ensure_demo_material(vehicle)
    path = Path(name_or_path)
    if path.suffix == PACKAGE_SUFFIX or path.exists():
        if not path.is_file():
            raise ConfigError(f"package {path} does not exist",
                              hint="give the path of a .wspkg file, or the name of one in "
                                   f"{package_store()}")
        return path
    try:
        name = safe_name("package name", name_or_path)
    except UnsafeNameError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from exc
    stored = inside(package_store(), package_store() / f"{name}{PACKAGE_SUFFIX}")
    if not stored.is_file():  # the manifest id, as a signed baseline or audit record names it
        stored = stored_package_with_id(name) or stored
    if not stored.is_file():
        known = sorted(p.stem for p in package_store().glob(f"*{PACKAGE_SUFFIX}"))
        raise ConfigError(f"no package {name!r} in the package store",
                          hint=f"known: {', '.join(known) or 'none'}; or give a file path")
    return stored


def _baseline(conn: VehicleConnection, trust: object, path: Path | None
              ) -> tuple[Baseline | None, str | None]:
    try:
        return find_baseline(conn.vehicle.name, trust, path=path).baseline, None  # type: ignore[arg-type]
    except WorkshopError as exc:
        return None, exc.message


def prepare_flash(conn: VehicleConnection, package: Path, *, trust_dir: Path | None = None,
                  baseline_path: Path | None = None, mode: str = "auto",
                  only: Sequence[str] | None = None, overrides: Mapping[str, str] | None = None,
                  resumable: Mapping[str, tuple[str, str | None]] | None = None
                  ) -> FlashPreparation:
    if conn.adapter.is_simulated:
        ensure_demo_material(conn.vehicle.name)
    trust = trust_policy.trust_store(conn.adapter, trust_dir)
    report = verify_package(package, trust)
    if report.package is None:
        return FlashPreparation(report, None)
    manifest = report.package.manifest
    wanted = [n for n in manifest.order if not only or n in only]
    names = [e.name for e in conn.vehicle.ecus]
    states: dict[str, EcuState] = {}
    dtcs: dict[str, list[str] | None] = {}
    for name in {*wanted, *(d for n in wanted for d in manifest.ecu(n).depends_on)}:
        if name in names:
            states[name], dtcs[name] = read_state(conn, conn.vehicle.ecu(name))
    baseline, why = _baseline(conn, trust, baseline_path)
    rollback_images = RollbackImages(trust, lambda: signed_log(
        simulated=conn.adapter.is_simulated, trust_dir=trust_dir))
    plan = make_plan(report.package, PlanInputs(
        conn.vehicle, states, baseline, why,
        BusRateModel(conn.adapter.bitrate, conn.adapter.data_bitrate), conn.adapter.fd, mode,
        only, dict(overrides or {}), dict(resumable or {}), rollback_images,
        link_limit_bps=doip_ceiling_bps() if conn.adapter.is_doip else None))
    for e in plan.ecus:  # say why an image the store's index names was not taken
        for check in e.checks:
            if check.name == "rollback" and not check.passed and e.ecu in rollback_images.refused:
                check.detail += f"; {rollback_images.refused[e.ecu]}"
    return FlashPreparation(report, plan, diagnose.read_vin(conn, wanted), dtcs,
                            package_sha256(str(package)))


def run_flash(conn: VehicleConnection, prep: FlashPreparation, *,
              events: EventSink = ignore_events, cancel: CancelToken | None = None,
              ask: PassphraseSource = terminal_passphrase) -> FlashResult:
    """Carry out a ready plan; audit intent and outcome of the flash, each ECU and step.
    `ask` gives the workstation key's passphrase when it has one (the app asks in a dialog)."""
    assert prep.plan is not None
    log = open_audit_log(simulated=conn.adapter.is_simulated, ask=ask)
    who = technician()
    job = FlashJob(prep.plan, prep.package_sha256, who, prep.vin, prep.dtcs_before,
                   dict(prep.resume_of))
    with vehicle_flash_lock(conn.vehicle.name, technician=who,
                            what=f"flash {prep.plan.package.manifest.id}"):
        close_interrupted(conn, log, who)  # a crashed earlier run's intents get their outcome
        # on this thread: Windows ties the keep-awake request to the thread that makes it
        with KeepAwake() as awake:
            events(awake.state)
            return Executor(job, conn, log, events=events,
                            cancel=cancel or diagnose.new_cancel_token()).run()


@dataclass(frozen=True)
class PreconditionReading:
    """One planned ECU's programming preconditions as it reports them now."""

    ecu: str
    found: codec.Preconditions | None  # None: no routine in its profile, or `error`
    error: str = ""


def read_preconditions_now(conn: VehicleConnection, plan: FlashPlan
                           ) -> list[PreconditionReading]:
    """Live readings for the checklist shown before a flash; per ECU, an error in words
    for one that refuses or does not answer (the others are still read)."""
    readings = []
    for e in plan.ecus:
        try:
            found = read_preconditions(conn, conn.vehicle.ecu(e.ecu))
        except WorkshopError as exc:
            readings.append(PreconditionReading(e.ecu, None, exc.message))
        else:
            readings.append(PreconditionReading(e.ecu, found))
    return readings


