"""Fault campaign for reflash: many flashes, each with one fault injected, over the real stack
(simulated ECU <-> virtual bus <-> ISO-TP <-> UDS <-> executor), over every bootloader family
the simulator has: the demo car's A/B ENGINE and single-bank BODY, the truck's ECU10 (29-bit,
region-index erase) and the van's VAG-like ECM, PSA-like BSI and ADAS (31 03 polling, 29-bit,
CAN FD, read out before writing), each flashed through its profile alone.

A seed picks the family (seed % 6) and the fault kind ((seed // 6) % 9, so that every family
meets every kind), then at random the step, the byte, the NRC and what is done to the files:
- power loss at a step of the ECU's real step list (at its start or a moment into it; in a
  download, after a random number of bytes), NRC to the request of a step, a lost or garbled
  answer frame, the ECU stalling, the adapter off the bus, a new image that does not start,
  and kill -9 of the tool (a child process) at a step of the step list;
- on about every second seed the image store's index first names a placed, unsigned file as
  the ECU's old version (a rollback must use the image a signed package vouches for);
- when a flash ends resumable, the journal is kept, edited, deleted or replaced by a
  symlinked folder before the resume: an edited or symlinked journal must be refused, and
  after it is moved aside (what the refusal tells the technician) the resume must still find
  the ECU from the signed audit record.
Each case checks five figures:
- bricked: at the end the ECU does not run a valid image (the old or the new one), after
  the flash and its resumes (run again, up to RESUMES times, while a resume ends resumable,
  as its message tells the technician);
- verdict != truth: the outcome the tool reported does not match what the ECU runs (and a
  journal refusal that should have come did not, or the other way round);
- audit lost: the audit log does not verify, or lacks the flash's intent or its outcome;
- record != verdict: the ECU's signed outcome record disagrees with the outcome reported;
- intents open: `audit verify` lists an intent left without its outcome.

Run: python tools/fault_campaign.py [--seeds N] [--first S]   (prints the figures)
With --doip: DoIP faults on sim-doip instead (TCP reset, gateway restart, slow answers; see
tools/fault_campaign_doip.py).
The tests run a fixed set of seeds through `run_case`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.flash.helpers import DEMO_ECUS, Update, build, verified  # noqa: E402
from workshop.flash.errors import NothingToResumeError  # noqa: E402
from workshop.flash.journal import JournalError, journal_dir  # noqa: E402
from workshop.foundation.events import EcuStep  # noqa: E402
from workshop.packages.build import build_package  # noqa: E402
from workshop.services import audit_trail  # noqa: E402
from workshop.services.baseline_check import package_store  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.services.flash import prepare_flash, prepare_resume, run_flash  # noqa: E402
from workshop.services.flash_records import AuditRecordError  # noqa: E402
from workshop.transport.adapters import AdapterConfig  # noqa: E402
from workshop.trust.demo import demo_signer  # noqa: E402
from workshop.vehicles import load_vehicle  # noqa: E402


@dataclass(frozen=True)
class Family:
    name: str
    vehicle: str  # shipped vehicle file (its latency made short for the campaign)
    ecu: str
    modes: tuple[str, ...]
    spec: str | None = None  # shipped package spec; None: demo-car packages built per case
    size: int = 8192  # the image's size, when built per case


FAMILIES = (
    Family("demo-car ENGINE (A/B)", "demo-car", "ENGINE", ("plain", "lz4", "bsdiff4")),
    Family("demo-car BODY (single bank)", "demo-car", "BODY", ("plain", "lz4")),
    Family("truck ECU10 (29-bit)", "truck", "ECU10", ("plain", "lz4"), "truck-ecu10-2.0.1"),
    Family("van ECM (VAG-like)", "van", "ECM", ("plain",), "van-ecm-1.1.0"),
    Family("van BSI (PSA-like)", "van", "BSI", ("plain",), "van-bsi-1.1.0"),
    Family("van ADAS (31 03, CAN FD)", "van", "ADAS", ("plain",), "van-adas-1.1.0"),
)
KINDS = ("power_loss", "nrc", "drop_frame", "corrupt_frame", "stall", "adapter_loss",
         "fail_boot", "kill", "power_loss")  # power loss twice: a step list has many steps
FAULTS = tuple(dict.fromkeys(KINDS))
JOURNAL_FAULTS = ("keep", "edit", "delete", "symlink")
# a resume that ends resumable again (the ECU still busy or slow on a loaded machine) is run
# again, as its message tells the technician; bricked means not running a valid image after
# this many resumes
RESUMES = 3
OVERRIDES = {"rollback": "fault campaign", "baseline": "fault campaign"}
# the requests a step sends (first word of the step's name) and NRCs an ECU may give them
STEP_SIDS = {"extended": (0x10,), "programming": (0x10,), "preconditions": (0x31,),
             "security": (0x27,), "read": (0x35, 0x23), "fingerprint": (0x2E,),
             "erase": (0x31,), "download": (0x34, 0x36, 0x37), "check": (0x31,),
             "reset": (0x11,), "confirm": (0x22,), "DTCs": (0x14,)}
NRCS = {0x10: (0x22, 0x12), 0x27: (0x35, 0x22, 0x36, 0x37), 0x31: (0x22, 0x31, 0x72),
        0x35: (0x70, 0x22), 0x23: (0x31, 0x22), 0x2E: (0x72, 0x22, 0x33),
        0x34: (0x70, 0x22), 0x36: (0x72, 0x71, 0x73), 0x37: (0x72, 0x24),
        0x11: (0x22,), 0x22: (0x31, 0x22), 0x14: (0x22, 0x31)}


@dataclass
class CaseResult:
    seed: int
    family: str
    mode: str
    fault: str
    outcome: str
    resumed: str | None
    bricked: bool
    verdict_wrong: bool
    audit_lost: bool
    detail: str
    intents_open: bool = False
    journal: str = "keep"
    record_wrong: bool = False
    index_edited: bool = False
    resumes: int = 1  # how many times the resume ran (again while it said resumable)

    @property
    def bad(self) -> bool:
        return (self.bricked or self.verdict_wrong or self.audit_lost or self.intents_open
                or self.record_wrong)


@dataclass
class Target:
    """What a case flashes: the package and the images that tell the truth apart."""

    family: Family
    package: Path
    start: int
    new: bytes
    old: bytes | None  # None: the factory image, known by its version
    old_version: str

    def truth(self, conn: VehicleConnection) -> str:
        """What the ECU runs: 'new', 'old', 'boot' (no valid application) or 'other'."""
        assert conn.simulator is not None
        flash = conn.simulator.ecus[self.family.ecu].flash
        if not flash.application_valid():
            return "boot"
        image = flash.active_image(self.start, len(self.new))
        if image == self.new:
            return "new"
        if self.old is not None:
            return "old" if image == self.old else "other"
        return "old" if flash.version() == self.old_version else "other"


def bench_vehicle(folder: Path, name: str) -> Path:
    """The shipped vehicle with short ECU latencies (the campaign runs many flashes)."""
    text = (ROOT / "resources" / "vehicles" / f"{name}.toml").read_text()
    path = folder / f"{name}.toml"
    head, sep, rest = text.partition("latency_ms = [")
    path.write_text(head + sep + "1, 3]" + rest.partition("]")[2])
    return path


def make_target(family: Family, folder: Path) -> Target:
    folder.mkdir(parents=True, exist_ok=True)
    if family.spec is None:
        ecu, start = family.ecu, DEMO_ECUS[family.ecu][2]
        old = build(folder / "old", f"{ecu.lower()}-old",
                    [Update(ecu, version="1.0.0", security_version=1, size=family.size)])
        old_image = _region_image(old)
        verified(old)  # the image store learns 1.0.0: delta base and rollback image
        # a rollback image counts only when a signed package in the package store vouches
        shutil.copy(old, package_store() / old.name)
        new = build(folder / "new", f"{ecu.lower()}-new", [Update(ecu, size=family.size)],
                    delta_from=old if "bsdiff4" in family.modes else None)
        return Target(family, new, start, _region_image(new), old_image, "1.0.0")
    pkg = folder / f"{family.spec}.wspkg"
    build_package(ROOT / "resources" / "packages" / f"{family.spec}.toml", pkg, demo_signer())
    manifest = verified(pkg).manifest.ecus[0]
    return Target(family, pkg, manifest.regions[0].address, _region_image(pkg), None,
                  manifest.from_versions[0])


def _region_image(pkg: Path) -> bytes:
    p = verified(pkg)
    return p.region_image(p.manifest.ecus[0].regions[0])


class Trigger:
    """Stalls the ECU or takes the adapter off the bus after a number of frames; `done()`
    ends it when the flash finished before the frame came."""

    def __init__(self, conn: VehicleConnection, ecu: str, frames: int, hold_s: float,
                 fault: str) -> None:
        assert conn.simulator is not None and conn.endpoint is not None
        self.sim, self.ecu, self.frames, self.hold_s, self.fault = (
            conn.simulator, ecu, frames, hold_s, fault)
        self.seen = 0
        self.hit = threading.Event()
        self.finished = threading.Event()
        conn.endpoint.router.add_tap(self._tap)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _tap(self, _msg: object) -> None:
        self.seen += 1
        if self.seen == self.frames:
            self.hit.set()

    def _run(self) -> None:
        while not self.hit.wait(0.05):
            if self.finished.is_set():
                return
        if self.fault == "stall":
            self.sim.fault(self.ecu).stop_answering()
        else:
            self.sim.bus_off(True)
        self.finished.wait(self.hold_s)  # ends early once the flash gave up
        self.sim.fault(self.ecu).resume()
        self.sim.bus_off(False)

    def done(self) -> None:
        self.finished.set()
        self.thread.join()


class AtStep:
    """Injects a fault when the ECU's work enters step `index` of its step list: the power
    goes off (at once, a moment later, or in a download after `cut` bytes), or the step's
    request is refused with an NRC once."""

    def __init__(self, conn: VehicleConnection, ecu: str, fault: str, index: int,
                 rng: random.Random, wire: int) -> None:
        assert conn.simulator is not None
        self.plan, self.ecu, self.fault, self.index = conn.simulator.fault(ecu), ecu, fault, index
        self.delay = rng.choice((0.0, rng.uniform(0.0, 0.3)))
        self.cut, self.off_s = rng.randint(0, max(wire, 1)), rng.uniform(0.05, 0.5)
        self.pick = rng.random()
        self.timer: threading.Timer | None = None
        self.what = ""

    def __call__(self, event: object) -> None:
        if not (isinstance(event, EcuStep) and event.ecu == self.ecu
                and event.index == self.index and not self.what):
            return
        if self.fault == "nrc":
            sids = STEP_SIDS.get(event.step.split()[0], (0x31,))
            sid = sids[int(self.pick * len(sids))]
            nrc = NRCS[sid][int(self.pick * 97) % len(NRCS[sid])]
            self.plan.answer_with_nrc(sid, nrc, times=1)
            self.what = f"NRC {nrc:02X} to {sid:02X} at {event.step}"
        elif event.step.startswith("download"):
            self.plan.lose_power_after_bytes(self.cut, self.off_s)
            self.what = f"power off after {self.cut} bytes of {event.step}"
        else:
            self.timer = threading.Timer(self.delay, self.plan.lose_power, (self.off_s,))
            self.timer.start()
            self.what = f"power off {self.delay:.2f} s into {event.step}"

    def done(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def inject(conn: VehicleConnection, ecu: str, fault: str, rng: random.Random,
           wire: int) -> Trigger | None:
    plan = conn.simulator.fault(ecu)  # type: ignore[union-attr]
    if fault == "drop_frame":
        plan.drop_frame(rng.randint(1, 60))
    elif fault == "corrupt_frame":
        plan.corrupt_frame(rng.randint(1, 60))
    elif fault == "fail_boot":
        plan.fail_next_boot()
    elif fault in ("stall", "adapter_loss"):
        return Trigger(conn, ecu, rng.randint(10, 40 + wire // 7), rng.uniform(0.2, 2.5), fault)
    return None


# "resumable" says the ECU has not confirmed the new version: it may still run the old
# image, wait in its bootloader, or hold the new image checked but not yet started (the tool
# lost it before the reset); the resume, or the record it writes, must then settle it.
CONSISTENT = {"success": {"new"}, "rolled_back": {"old"}, "failed": {"old"},
              "refused": {"old"}, "resumable": {"old", "boot", "new"}}


def _audit_ok() -> bool:
    records, result = audit_trail.recent_records(100000)
    if not result.ok:
        return False
    intents = {r.seq for r in records if r.action == "flash"
               and r.details.get("phase") == "intent"}
    outcomes = {r.details.get("intent_seq") for r in records if r.action == "flash"
                and r.details.get("phase") == "outcome"}
    return bool(intents) and intents <= outcomes


def _last_ecu_outcome(ecu: str) -> str | None:
    records, _ = audit_trail.recent_records(100000)
    found = [r.details.get("outcome") for r in records if r.action == "flash.ecu"
             and r.ecu == ecu and r.details.get("phase") == "outcome"]
    return str(found[-1]) if found else None


def _killed_flash_outcome(ecu: str) -> str:
    """The last outcome recorded for the first flash of the case (the one killed): its ECU's
    (written by the killed tool when it got that far, or by the next run, which closes the
    open intent by asking the ECU), else the whole flash's, when the kill came before the
    ECU's work began."""
    records, _ = audit_trail.recent_records(100000)
    flash = min((r.seq for r in records if r.action == "flash"
                 and r.details.get("phase") == "intent"), default=None)
    intents = {r.seq for r in records if r.action == "flash.ecu" and r.ecu == ecu
               and r.details.get("phase") == "intent"
               and r.details.get("request", {}).get("flash_seq") == flash}
    for wanted in (intents, {flash}):
        found = [r.details.get("outcome") for r in records
                 if r.details.get("phase") == "outcome" and r.details.get("intent_seq") in wanted]
        if found:
            return str(found[-1])
    return "none"


def _settled(resumed: str, ecu: str, before: str = "none") -> str:
    """The verdict after a resume: what the resumed flash ended in, or, when there was nothing
    to flash, the ECU's last outcome record (the resume records what it found), else
    `before`."""
    if resumed in ("nothing to resume", "none"):
        return _last_ecu_outcome(ecu) or before
    return resumed


def _intents_open() -> bool:
    return bool(audit_trail.verify_log().open_intents)


def tamper_journal(kind: str, vehicle: str, ecu: str, folder: Path) -> bool:
    """Apply a journal fault; True when the resume must refuse it."""
    journal = journal_dir(vehicle)
    path = journal / f"{ecu}.json"
    if kind == "edit" and path.is_file():
        doc = json.loads(path.read_text())
        doc["overrides"]["hardware"] = "never given by the technician"
        path.write_text(json.dumps(doc))
        return True
    if kind == "delete":
        path.unlink(missing_ok=True)
    if kind == "symlink":
        if journal.exists():
            shutil.move(str(journal), str(folder / "journal-aside"))
        (folder / "elsewhere").mkdir()
        journal.symlink_to(folder / "elsewhere", target_is_directory=True)
        return True
    return False


def edit_index(target: Target) -> None:
    """The index names a placed, unsigned file as the ECU's old version."""
    from workshop.packages import images

    placed = b"placed, unsigned code " * 400
    images.remember_version(target.family.ecu, target.old_version, [images.StoredRegion(
        images.put_image(placed), target.start, len(placed), target.start, len(target.new))])


def resume_all(conn: VehicleConnection, must_refuse: bool) -> tuple[str, bool, str]:
    """(what the resume ended in, whether a refusal went wrong, its detail)."""
    refused = False
    try:
        preps = prepare_resume(conn)
    except (AuditRecordError, JournalError):
        refused = True
        journal = journal_dir(conn.vehicle.name)  # moved aside, as the refusal's hint says
        if journal.is_symlink():
            journal.unlink()
        else:
            shutil.rmtree(journal, ignore_errors=True)
        try:
            preps = prepare_resume(conn)
        except NothingToResumeError as exc:
            return "nothing to resume", refused != must_refuse, exc.message
    except NothingToResumeError as exc:
        return "nothing to resume", must_refuse, exc.message
    results = [run_flash(conn, p) for p in preps]
    if not results[0].ecus:
        return "none", refused != must_refuse, ""
    o = results[0].ecus[0]
    return o.outcome, refused != must_refuse, o.detail


def fresh_vehicle_state(vehicle: str) -> None:
    """Factory ECUs, no journal, no image index and an empty audit log for the next case;
    the demo PKI and the image store's files in WORKSHOP_HOME are kept (they take seconds
    to make)."""
    from workshop.audit.identity import audit_dir
    from workshop.packages.images import store_dir
    from workshop.simulator.state import reset_state

    reset_state(vehicle)
    journal = journal_dir(vehicle)
    if journal.is_symlink():
        journal.unlink()
    shutil.rmtree(journal, ignore_errors=True)
    shutil.rmtree(audit_dir(), ignore_errors=True)
    (store_dir() / "index.json").unlink(missing_ok=True)


def run_case(seed: int, folder: Path) -> CaseResult:
    family = FAMILIES[seed % len(FAMILIES)]
    fault = KINDS[(seed // len(FAMILIES)) % len(KINDS)]
    rng = random.Random(seed)
    fresh_vehicle_state(family.vehicle)
    target = make_target(family, folder / "packages")
    index_edited = rng.random() < 0.5
    if index_edited:  # a rollback must not use the placed file
        edit_index(target)
    kind = rng.choice(JOURNAL_FAULTS)
    mode = rng.choice(family.modes)
    vehicle = bench_vehicle(folder, family.vehicle)
    if fault == "kill":
        return _kill_case(seed, target, vehicle, rng, folder, index_edited)
    ecu = family.ecu
    resumed: str | None = None
    what = ""
    resumes = 1
    with VehicleConnection(AdapterConfig(channel=f"campaign-{uuid.uuid4()}"),
                           load_vehicle(vehicle)) as conn:
        prep = prepare_flash(conn, target.package, mode=mode, only=[ecu], overrides=OVERRIDES)
        assert prep.plan is not None and prep.ready, prep.plan and prep.plan.blocking_reasons()
        plan = prep.plan.ecu(ecu)
        at: AtStep | None = None
        if fault in ("power_loss", "nrc"):
            at = AtStep(conn, ecu, fault, rng.randint(1, len(plan.steps)), rng, plan.wire_bytes)
        helper = inject(conn, ecu, fault, rng, plan.wire_bytes)
        outcome = run_flash(conn, prep, events=at or (lambda _e: None)).ecus[0]
        if helper is not None:
            helper.done()
        if at is not None:
            at.done()
        sim = conn.simulator
        assert sim is not None
        sim.fault(ecu).clear()
        sim.bus_off(False)
        sim.fault(ecu).powered.wait(5)
        seen = final = target.truth(conn)
        wrong = seen not in CONSISTENT[outcome.outcome]
        record_wrong = _last_ecu_outcome(ecu) not in (outcome.outcome, None)
        if outcome.outcome == "resumable":
            must_refuse = tamper_journal(kind, family.vehicle, ecu, folder)
            # "nothing to resume": the ECU kept its old image, truth says so
            resumed, refusal_wrong, how = resume_all(conn, must_refuse)
            what += f"; resume: {resumed}: {how}"
            for _ in range(RESUMES - 1):  # the technician runs the resume again when told to
                if resumed != "resumable":
                    break
                resumed, _wrong, how = resume_all(conn, False)
                what += f"; again: {resumed}: {how}"
                resumes += 1
            final = target.truth(conn)
            verdict = _settled(resumed, ecu)
            wrong = (wrong or refusal_wrong or verdict not in CONSISTENT
                     or final not in CONSISTENT[verdict])
            if resumed not in ("nothing to resume", "none"):
                record_wrong = record_wrong or _last_ecu_outcome(ecu) != resumed
        else:
            kind = "-"
    step = f"{at.what}; " if at is not None and at.what else ""
    return CaseResult(seed, family.name, mode, fault, outcome.outcome, resumed,
                      final not in ("new", "old"), wrong, not _audit_ok(),
                      f"{step}{outcome.outcome}: {outcome.detail}"[:200] + what[:200],
                      _intents_open(),
                      kind, record_wrong, index_edited, resumes)


def child_flash(pkg: str, ecu: str, index: str, vehicle: str) -> None:
    """In a child process: flash, and say when the ECU's work enters step `index` (the
    parent kills the process there, or a moment later)."""
    def events(event: object) -> None:
        if isinstance(event, EcuStep) and event.index == int(index):
            print("at", event.step, flush=True)

    with VehicleConnection(AdapterConfig(channel=f"campaign-{uuid.uuid4()}"),
                           load_vehicle(vehicle)) as conn:
        prep = prepare_flash(conn, Path(pkg), only=[ecu], overrides=OVERRIDES)
        run_flash(conn, prep, events=events)
    print("finished", flush=True)


def _kill_case(seed: int, target: Target, vehicle: Path, rng: random.Random, folder: Path,
               index_edited: bool) -> CaseResult:
    """kill -9 of the tool at a step; the next run must close the open intents with what the
    ECU runs (consistent with the truth then), and the resume must end in the truth."""
    ecu = target.family.ecu
    with VehicleConnection(AdapterConfig(channel=f"campaign-{uuid.uuid4()}"),
                           load_vehicle(vehicle)) as conn:
        prep = prepare_flash(conn, target.package, only=[ecu], overrides=OVERRIDES)
        assert prep.plan is not None
        steps = prep.plan.ecu(ecu).steps
    index = rng.randint(1, len(steps))
    delay = rng.choice((0.0, rng.uniform(0.0, 0.5)))
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child",
                              str(target.package), ecu, str(index), str(vehicle)],
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if delay:
            time.sleep(delay)  # the kill lands a moment into the step
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    with VehicleConnection(AdapterConfig(channel=f"campaign-{uuid.uuid4()}"),
                           load_vehicle(vehicle)) as conn:
        before = target.truth(conn)
        resumed, _, how = resume_all(conn, False)  # closes the open intents first
        resumes = 1
        while resumed == "resumable" and resumes < RESUMES:
            resumed, _, how = resume_all(conn, False)
            resumes += 1
        closed = _killed_flash_outcome(ecu)
        final = target.truth(conn)
        verdict = _settled(resumed, ecu, closed)
        record_wrong = (resumed not in ("nothing to resume", "none")
                        and _last_ecu_outcome(ecu) != resumed)
    wrong = (closed not in CONSISTENT or before not in CONSISTENT[closed]
             or verdict not in CONSISTENT or final not in CONSISTENT[verdict])
    return CaseResult(seed, target.family.name, "auto", "kill", closed, resumed,
                      final not in ("new", "old"), wrong, not _audit_ok(),
                      f"{line} (+{delay:.2f} s) of {len(steps)} steps; the ECU ran {before}, "
                      f"then {final}; resume: {how}"[:300], _intents_open(), "keep",
                      record_wrong, index_edited, resumes)


FIGURES = (("bricked", "bricked"), ("verdict != ECU truth", "verdict_wrong"),
           ("audit records lost", "audit_lost"), ("record != verdict", "record_wrong"),
           ("intents left open", "intents_open"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--doip", action="store_true",
                    help="DoIP faults on sim-doip (tools/fault_campaign_doip.py)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    families, case = FAMILIES, run_case
    if args.doip:
        from tools.fault_campaign_doip import DOIP_FAMILIES, run_doip_case
        families, case = DOIP_FAMILIES, run_doip_case
    if args.child:
        logging.disable(logging.CRITICAL)
        child_flash(*args.child)
        return 0
    logging.disable(logging.CRITICAL)  # udsoncan logs every NRC; the figures are the output
    counts: Counter[str] = Counter()
    per_family: dict[str, Counter[str]] = defaultdict(Counter)
    started = time.monotonic()
    home = tempfile.TemporaryDirectory()
    os.environ["WORKSHOP_HOME"] = home.name
    seeds = range(args.first, args.first + args.seeds)
    bad = crashed = 0
    for n, seed in enumerate(seeds):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                r = case(seed, Path(tmp))
            except Exception:  # a defect (a flash without an outcome...): counted, shown
                traceback.print_exc()
                crashed += 1
                print(f"seed {seed}: CRASHED", flush=True)
                continue
        counts[f"{r.fault}/{r.outcome}" + (f"->{r.journal} journal->{r.resumed}"
                                            if r.resumed else "")
               + (f" ({r.resumes} resumes)" if r.resumes > 1 else "")] += 1
        fam = per_family[r.family]
        fam["runs"] += 1
        for _name, attr in FIGURES:
            fam[attr] += getattr(r, attr)
        if r.bad:
            bad += 1
            print(f"seed {seed}: BAD {r}", flush=True)
        else:
            print(f"seed {seed}: ok {r.family}, {r.fault}: {r.outcome}"
                  + (f", {r.journal} journal -> {r.resumed}" if r.resumed else "")
                  + (f" ({r.resumes} resumes: {r.detail})" if r.resumes > 1 else ""),
                  flush=True)
        if (n + 1) % 50 == 0:
            print(f"{n + 1} runs, {bad} bad, {time.monotonic() - started:.0f} s", flush=True)
    home.cleanup()
    print(f"{len(seeds)} runs (seeds {args.first}..{args.first + len(seeds) - 1}) in "
          f"{time.monotonic() - started:.0f} s")
    for key, n in sorted(counts.items()):
        print(f"  {key:<48} {n}")
    print(f"  {'family':<30} {'runs':>5} " + " ".join(f"{a:>8}" for a in
                                                     ("bricked", "verdict", "audit", "record",
                                                      "intents")))
    for f in families:
        c = per_family[f.name]
        print(f"  {f.name:<30} {c['runs']:>5} "
              + " ".join(f"{c[attr]:>8}" for _n, attr in FIGURES))
    for name, attr in FIGURES:
        print(f"{name}: {sum(c[attr] for c in per_family.values())}")
    print(f"cases that crashed the campaign: {crashed}")
    return 1 if bad or crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
