"""The flash plan: pure (no bus), from a verified package, what each ECU said about itself,
and the ECUs' flash profiles.

Every check is listed with its verdict, so the technician sees why a plan is blocked, not just
that it is. A failed check blocks the whole plan; only a check marked overridable can be
overridden, and then with a reason that goes into the audit log.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from workshop.flash import codec
from workshop.flash.checksums import DIGESTS
from workshop.flash.modes import choose_mode
from workshop.flash.plan_model import EcuPlan as EcuPlan
from workshop.flash.plan_model import EcuState as EcuState
from workshop.flash.plan_model import FlashPlan as FlashPlan
from workshop.flash.plan_model import PlanCheck as PlanCheck
from workshop.flash.plan_model import RegionTransfer as RegionTransfer
from workshop.packages.baseline import Baseline
from workshop.packages.compression import compress
from workshop.packages.errors import PackageError
from workshop.packages.images import StoredRegion
from workshop.packages.manifest import EcuUpdate, Region
from workshop.packages.verify import VerifiedPackage, check_vehicle
from workshop.transport.busrate import BusRateModel, isotp_ceiling_bps
from workshop.vehicles import EcuDefinition, VehicleDefinition

MODES = ("auto", "plain", "lz4", "bsdiff4")
# Session changes, security access, reset and re-identification: measured on the simulator
# with realistic latency, rounded up.
FIXED_OVERHEAD_S = 2.0


@dataclass(frozen=True)
class PlanInputs:
    """Everything the plan depends on besides the package; gathered by the services."""

    vehicle: VehicleDefinition
    states: Mapping[str, EcuState]
    baseline: Baseline | None = None
    baseline_problem: str | None = None  # why there is no baseline, when there is none
    bus: BusRateModel = field(default_factory=BusRateModel)
    fd: bool = False
    mode: str = "auto"
    only: Sequence[str] | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)  # "check" or "ECU.check"
    # ECU -> (why it is resumable, its version before the interrupted flash)
    resumable: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    # the proven images of (ECU, version) in the image store, or None
    previous_image: Callable[[str, str], list[StoredRegion] | None] = (
        lambda _ecu, _version: None)
    compressed_size: Callable[[bytes], int] | None = None
    # over DoIP the Ethernet link's limit (payload bytes/s) replaces the CAN bus model's
    link_limit_bps: float | None = None


def make_plan(package: VerifiedPackage, inputs: PlanInputs) -> FlashPlan:
    manifest = package.manifest
    vehicle = inputs.vehicle
    extended = vehicle.addressing != "normal_11bit"
    limit = inputs.link_limit_bps or isotp_ceiling_bps(inputs.bus, fd=inputs.fd,
                                                       extended_id=extended)
    problems: list[str] = []
    if inputs.mode not in MODES:
        problems.append(f"transfer mode {inputs.mode!r} is not one of {', '.join(MODES)}")
    if manifest.vehicle_models and vehicle.name not in manifest.vehicle_models:
        problems.append(f"package is for {', '.join(manifest.vehicle_models)}, not for "
                        f"vehicle model {vehicle.name}")
    try:
        check_vehicle(manifest, vehicle)
    except PackageError as exc:
        problems.append(exc.message)
    wanted = list(inputs.only) if inputs.only else list(manifest.order)
    unknown = [n for n in wanted if n not in manifest.order]
    if unknown:
        problems.append(f"package has no update for {', '.join(unknown)} (it updates "
                        f"{', '.join(manifest.order)})")
    selected = [n for n in manifest.order if n in wanted]
    plans: list[EcuPlan] = []
    if not problems:
        for name in selected:
            update = manifest.ecu(name)
            state = inputs.states.get(name) or EcuState(name, False, error="not read")
            resume = inputs.resumable.get(name)
            plan = EcuPlan(name, vehicle.ecu(name), update, state, resume=resume is not None,
                           version_before=resume[1] if resume else state.software_version)
            _checks(plan, package, inputs, selected)
            _transfers(plan, package, inputs, limit)
            _apply_overrides(plan, inputs.overrides)
            plan.steps = steps_for(plan)
            plans.append(plan)
    return FlashPlan(package, vehicle, plans, _waves(manifest.ecus, selected), limit, problems)


def _check(plan: EcuPlan, name: str, passed: bool, detail: str,
           overridable: bool = False) -> None:
    plan.checks.append(PlanCheck(name, passed, detail, overridable))


def _checks(plan: EcuPlan, package: VerifiedPackage, inputs: PlanInputs,
            selected: list[str]) -> None:
    u, s, d = plan.update, plan.state, plan.definition
    answered, address = s.responded, ecu_address(d)
    _check(plan, "target", answered and u.address == address,
           (f"{u.name} at 0x{address:X} answered" if answered else
            f"{u.name} did not answer: {s.error or 'no answer'}")
           if u.address == address else
           f"package targets address 0x{u.address:X}, {u.name} is at 0x{address:X}")
    hw = s.hardware_number
    _check(plan, "hardware", hw in u.hardware_part_numbers,
           f"hardware {hw} is one the package is made for" if hw in u.hardware_part_numbers
           else f"hardware {hw or 'unknown'} is not in {', '.join(u.hardware_part_numbers)}")
    if plan.resume:
        _check(plan, "version", True, f"completes an interrupted flash to {u.new_version}: "
                                      f"{inputs.resumable[u.name][0]}")
    elif s.in_bootloader:
        _check(plan, "version", False, "the ECU is in its bootloader with no valid "
               "application and no interrupted flash of this package is recorded",
               overridable=True)
    else:
        ok = s.software_version in u.from_versions
        _check(plan, "version", ok,
               f"{s.software_version} -> {u.new_version} is an allowed update" if ok else
               f"installed {s.software_version or 'unknown'} is not one this package updates "
               f"from ({', '.join(u.from_versions)})", overridable=True)
    counter = s.anti_rollback
    if d.flash.anti_rollback_did is None:
        _check(plan, "anti-rollback", True, "the ECU keeps no anti-rollback counter")
    else:
        ok = counter is not None and u.security_version >= counter
        _check(plan, "anti-rollback", ok,
               f"security version {u.security_version} >= ECU counter {counter}" if ok else
               f"security version {u.security_version} is below the ECU's anti-rollback "
               f"counter {counter}: a downgrade" if counter is not None else
               "the ECU did not report its anti-rollback counter")
    _baseline_check(plan, inputs)
    deps = []
    for dep in u.depends_on:
        if dep in selected:
            continue
        have = inputs.states.get(dep)
        need = package.manifest.ecu(dep).new_version
        if have is None or have.software_version != need:
            deps.append(f"{dep} must be at {need} first (it is at "
                        f"{have.software_version if have else 'unknown'}); include it")
    _check(plan, "dependencies", not deps, "; ".join(deps) or
           (f"after {', '.join(u.depends_on)}" if u.depends_on else "none"))
    if d.flash.banks == "ab":
        plan.rollback = "previous bank"
        _check(plan, "rollback", True, "A/B: the previous bank keeps the running image")
    else:
        version = plan.version_before
        found = inputs.previous_image(u.name, version) if version else None
        sha = found[0].sha256 if found else None
        readable = (d.flash.readout != "none" and version is not None and not plan.resume
                    and not s.in_bootloader)
        if sha is None and readable:
            plan.rollback = READOUT
            _check(plan, "rollback", True, f"{version} is read out of the ECU before it is "
                   f"erased ({READOUT_SERVICES[d.flash.readout]}) and kept for rollback")
            return
        plan.rollback, plan.rollback_images = ("image store", found) if found else (None, None)
        _check(plan, "rollback", sha is not None,
               f"image of {version} is in the local image store" if sha else
               f"no image of {version or 'the installed version'} in the local image store: "
               "a failed confirmation could not be rolled back", overridable=True)


def ecu_address(d: EcuDefinition) -> int:
    """How packages name the ECU's address: its request id, or on 29-bit normal-fixed
    addressing (ISO 15765-4) its one-byte target address."""
    if d.addressing == "normal_fixed_29bit":
        return (d.request_id >> 8) & 0xFF
    return d.request_id


def _baseline_check(plan: EcuPlan, inputs: PlanInputs) -> None:
    u = plan.update
    if inputs.baseline is None:
        _check(plan, "baseline", False, f"no approved baseline: {inputs.baseline_problem}",
               overridable=True)
        return
    approved = inputs.baseline.ecus.get(u.name)
    ok = approved is not None and u.new_version in approved.software_versions
    _check(plan, "baseline", ok,
           f"{u.new_version} is approved by baseline {inputs.baseline.integration_level}" if ok
           else f"{u.new_version} is not approved for {u.name} by baseline "
                f"{inputs.baseline.integration_level}", overridable=True)


def _erased_bytes(plan: EcuPlan, region: Region) -> int:
    """What the ECU erases for `region`: an erase by logical block or zone number erases the
    whole [[ecus.memory]] range with that number, however short the image; else the
    region's erase range. The erase's time limit follows it."""
    _, memory = codec.memory_range(plan.definition, region.erase_address, region.erase_length)
    spec = memory.erase if memory is not None and memory.erase else plan.profile.erase
    if memory is not None and "block" in spec.layout:
        return max(memory.length, region.erase_length)
    return region.erase_length


def _transfers(plan: EcuPlan, package: VerifiedPackage, inputs: PlanInputs,
               limit: float) -> None:
    profile, state = plan.profile, plan.state
    problems: list[str] = []
    for index, region in enumerate(plan.update.regions):
        problem = _argument_problem(plan, region)
        if problem:
            problems.append(problem)
            continue
        if region.data_format is not None:  # the OEM's own encoding, sent as it is
            assert region.payload is not None
            wire = region.payload.size
            sectors = math.ceil(_erased_bytes(plan, region) / profile.sector_size)
            plan.transfers.append(RegionTransfer(
                index, region, "oem", region.data_format, wire,
                sectors * profile.erase_ms_per_sector / 1000, wire / limit,
                region.length / profile.write_bytes_per_s))
            continue
        mode, problem = choose_mode(region, profile, state.software_version, inputs.mode,
                                    plan.resume)
        if mode is None:
            problems.append(problem or "no transfer mode")
            continue
        if mode == "bsdiff4":
            assert region.delta is not None
            wire = region.delta.payload.size
        elif mode == "lz4":
            wire = _compressed_size(package, region, inputs)
            if inputs.mode == "auto" and wire >= region.length:
                mode, wire = "plain", region.length  # incompressible: compression only costs
        else:
            wire = region.length
        sectors = math.ceil(_erased_bytes(plan, region) / profile.sector_size)
        plan.transfers.append(RegionTransfer(
            index, region, mode, profile.data_formats[mode], wire,
            sectors * profile.erase_ms_per_sector / 1000, wire / limit,
            region.length / profile.write_bytes_per_s))
    _check(plan, "transfer", not problems, "; ".join(problems) or
           ", ".join(f"region {t.index} {t.mode} ({t.wire_size} bytes on the bus)"
                     for t in plan.transfers))
    plan.estimate_s = FIXED_OVERHEAD_S + sum(t.erase_s + t.wire_s + t.write_s
                                             for t in plan.transfers)


READOUT = "read out before writing"
READOUT_SERVICES = {"upload": "0x35 RequestUpload", "read_memory": "0x23 ReadMemoryByAddress"}
# Digests of the plain image an encoded region's manifest declares (the tool cannot compute
# others without decoding the payload, which it never does).
DECLARED_DIGESTS = {"crc32", "sha256", "checksum"}


def _argument_problem(plan: EcuPlan, region: Region) -> str | None:
    """What the region's check routine needs that the package cannot give."""
    _, memory = codec.memory_range(plan.definition, region.erase_address, region.erase_length)
    check = (memory.check_memory if memory is not None and memory.check_memory
             else plan.profile.check_memory)
    if "signature" in check.layout and region.signature is None:
        return (f"the check routine of region 0x{region.address:X} takes the OEM's signature "
                "of the image, and the package carries none")
    needs = set(check.layout) & set(DIGESTS) - DECLARED_DIGESTS
    if region.data_format is not None and needs:
        return (f"region 0x{region.address:X} ships OEM-encoded, and the check routine needs "
                f"{', '.join(sorted(needs))} of the plain image, which the package does not "
                "declare (only crc32 and sha256)")
    return None


def _compressed_size(package: VerifiedPackage, region: Region, inputs: PlanInputs) -> int:
    size = inputs.compressed_size or (lambda data: len(compress(data)))
    return size(package.region_image(region))


def _apply_overrides(plan: EcuPlan, overrides: Mapping[str, str]) -> None:
    for check in plan.checks:
        reason = overrides.get(f"{plan.ecu}.{check.name}") or overrides.get(check.name)
        if reason and check.overridable and not check.passed:
            check.overridden = reason


def steps_for(plan: EcuPlan) -> list[str]:
    """The canonical sequence for this ECU, each step shown to the technician: a security
    access wherever the profile asks for another level, each fingerprint DID where the
    profile writes it."""
    p = plan.profile
    steps = ["extended session"]
    if p.preconditions is not None:
        steps.append("preconditions")
    steps += ["programming session", "security access"]
    level = p.security_level
    if plan.rollback == READOUT:
        steps += [f"read out region {t.index}" for t in plan.transfers]

    def at(step: str, names: list[str]) -> None:
        nonlocal level
        if p.level_for(step) != level:
            level = p.level_for(step)
            steps.append("security access")
        steps.extend(names)

    fingerprints = ["fingerprint"] * len(p.fingerprints)
    if p.fingerprint_when == "before_erase":
        at("fingerprint", fingerprints)
    for t in plan.transfers:
        at("erase", [f"erase region {t.index}"])
        at("download", [f"download region {t.index} ({t.mode})"])
        at("check_memory", [f"check memory region {t.index}"])
    if p.fingerprint_when == "after_download":
        at("fingerprint", fingerprints)
    if p.check_dependencies is not None:
        at("check_dependencies", ["check dependencies"])
    steps += ["reset", "confirm version", "DTCs caused by programming"]
    return steps


def _waves(ecus: Sequence[EcuUpdate], selected: list[str]) -> list[list[str]]:
    """Dependency levels: an ECU goes in the first wave after all its dependencies."""
    level: dict[str, int] = {}
    by_name = {e.name: e for e in ecus}
    for name in selected:  # manifest order already puts dependencies first
        deps = [d for d in by_name[name].depends_on if d in level]
        level[name] = 1 + max((level[d] for d in deps), default=-1)
    waves: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for name in selected:
        waves[level[name]].append(name)
    return waves
