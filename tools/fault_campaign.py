"""Fault campaign for reflash: many flashes, each with one fault injected at a random point,
over the real stack (simulated ECU <-> virtual bus <-> ISO-TP <-> UDS <-> executor).

For every run it checks what matters to a workshop:
- bricked: after the flash (and a resume, when the tool said the flash is resumable) the
  ECU does not run a valid image;
- verdict != truth: the outcome the tool reported does not match what the ECU really runs;
- audit lost: the audit log does not verify, or lacks the flash's intent or outcome;
- intents open: an intent record left without its outcome after the case;
- the ECU's outcome record disagrees with the verdict (counted as verdict != truth).
Every odd seed first edits the image store's index to name a placed, unsigned file as the
ECU's 1.0.0 (a rollback must use the image a signed package vouches for). When a flash ends
resumable, the journal is kept, edited, deleted or replaced by a symlinked
folder before the resume (JOURNAL_FAULTS): an edited or symlinked journal must be refused,
and after it is moved aside (what the refusal tells the technician) the resume must still
find the ECU from the signed audit record.

Run: python tools/fault_campaign.py [--seeds N] [--first S]   (prints the figures)
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
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.flash.helpers import DEMO_ECUS, Update, build, verified  # noqa: E402
from workshop.flash.errors import NothingToResumeError  # noqa: E402
from workshop.flash.journal import JournalError, journal_dir  # noqa: E402
from workshop.flash.result import EcuOutcome  # noqa: E402
from workshop.packages.firmware import generate_image  # noqa: E402
from workshop.services import audit_trail  # noqa: E402
from workshop.services.baseline_check import package_store  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.services.flash import prepare_flash, prepare_resume, run_flash  # noqa: E402
from workshop.services.flash_records import AuditRecordError  # noqa: E402
from workshop.transport.adapters import AdapterConfig  # noqa: E402
from workshop.vehicles import load_vehicle  # noqa: E402

FAULTS = ("power_loss", "drop_frame", "corrupt_frame", "nrc", "stall", "adapter_loss",
          "fail_boot")
ECUS = ("ENGINE", "BODY")  # one A/B and one single-bank ECU type
NRC_TARGETS = ((0x10, 0x22), (0x27, 0x35), (0x31, 0x22), (0x34, 0x70), (0x36, 0x72),
               (0x37, 0x72), (0x2E, 0x72))
FAST = "latency_ms = [0, 0]"
JOURNAL_FAULTS = ("keep", "edit", "delete", "symlink")


@dataclass
class CaseResult:
    seed: int
    ecu: str
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

    @property
    def bad(self) -> bool:
        return self.bricked or self.verdict_wrong or self.audit_lost or self.intents_open


def bench_vehicle(folder: Path) -> Path:
    text = (ROOT / "resources" / "vehicles" / "demo-car.toml").read_text()
    path = folder / "demo-car.toml"
    path.write_text(text.replace("latency_ms = [5, 15]", "latency_ms = [1, 3]", 1))
    return path


def packages(folder: Path, ecu: str) -> tuple[Path, bytes, bytes]:
    """(new package with a delta for A/B ECUs, old image, new image)."""
    start = DEMO_ECUS[ecu][2]
    old = build(folder / "old", f"{ecu.lower()}-old",
                [Update(ecu, version="1.0.0", security_version=1)])
    verified(old)  # the image store learns 1.0.0: delta base and rollback image
    # a rollback image counts only when a signed package in the package store vouches for it
    shutil.copy(old, package_store() / old.name)
    new = build(folder / "new", f"{ecu.lower()}-new", [Update(ecu)],
                delta_from=old if ecu == "ENGINE" else None)
    return new, _image(ecu, "1.0.0", start, 1), _image(ecu, "1.1.0", start, 2)


def _image(ecu: str, version: str, start: int, security: int) -> bytes:
    from workshop.packages.descriptor import embed_descriptor
    return embed_descriptor(generate_image(f"{ecu}:{version}:{start}", 8192), version, security)


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


def inject(conn: VehicleConnection, ecu: str, fault: str, rng: random.Random,
           wire: int) -> Trigger | None:
    sim = conn.simulator
    assert sim is not None
    plan = sim.fault(ecu)
    if fault == "power_loss":
        plan.lose_power_after_bytes(rng.randint(0, wire), off_s=rng.uniform(0.05, 0.5))
    elif fault == "drop_frame":
        plan.drop_frame(rng.randint(1, 60))
    elif fault == "corrupt_frame":
        plan.corrupt_frame(rng.randint(1, 60))
    elif fault == "nrc":
        sid, nrc = rng.choice(NRC_TARGETS)
        plan.answer_with_nrc(sid, nrc, times=1)
    elif fault == "fail_boot":
        plan.fail_next_boot()
    elif fault in ("stall", "adapter_loss"):
        return Trigger(conn, ecu, rng.randint(10, 40 + wire // 7), rng.uniform(0.2, 2.5), fault)
    return None


def truth(conn: VehicleConnection, ecu: str, old: bytes, new: bytes) -> str:
    """What the ECU runs: 'new', 'old', 'boot' (no valid application) or 'other'."""
    sim = conn.simulator
    assert sim is not None
    s = sim.ecus[ecu]
    if not s.flash.application_valid():
        return "boot"
    image = s.flash.active_image(DEMO_ECUS[ecu][2], len(new))
    return "new" if image == new else "old" if image == old else "other"


CONSISTENT = {"success": {"new"}, "rolled_back": {"old"}, "failed": {"old"},
              "refused": {"old"}, "resumable": {"old", "boot"}}


def _audit_ok() -> bool:
    records, result = audit_trail.recent_records(100000)
    if not result.ok:
        return False
    intents = {r.seq for r in records if r.action == "flash"
               and r.details.get("phase") == "intent"}
    outcomes = {r.details.get("intent_seq") for r in records if r.action == "flash"
                and r.details.get("phase") == "outcome"}
    return bool(intents) and intents <= outcomes


def _last_ecu_outcome(ecu: str, *, found_after_interruption: bool = False) -> str | None:
    records, _ = audit_trail.recent_records(100000)
    found = [r.details.get("outcome") for r in records if r.action == "flash.ecu"
             and r.ecu == ecu and r.details.get("phase") == "outcome"
             and (r.details.get("found_after_interruption") or not found_after_interruption)]
    return str(found[-1]) if found else None


def _intents_open() -> bool:
    return bool(audit_trail.verify_log().open_intents)


def tamper_journal(kind: str, ecu: str, folder: Path) -> bool:
    """Apply a journal fault; True when the resume must refuse it."""
    journal = journal_dir("demo-car")
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


def edit_index(ecu: str) -> None:
    from workshop.packages import images

    placed = b"placed, unsigned code " * 400
    start = DEMO_ECUS[ecu][2]
    images.remember_version(ecu, "1.0.0", [images.StoredRegion(
        images.put_image(placed), start, len(placed), start, 8192)])


def resume_all(conn: VehicleConnection, must_refuse: bool) -> tuple[str, bool]:
    """(what the resume ended in, whether a refusal went wrong)."""
    refused = False
    try:
        preps = prepare_resume(conn)
    except (AuditRecordError, JournalError):
        refused = True
        journal = journal_dir("demo-car")  # moved aside, as the refusal's hint says
        if journal.is_symlink():
            journal.unlink()
        else:
            shutil.rmtree(journal, ignore_errors=True)
        try:
            preps = prepare_resume(conn)
        except NothingToResumeError:
            return "nothing to resume", refused != must_refuse
    except NothingToResumeError:
        return "nothing to resume", must_refuse
    results = [run_flash(conn, p) for p in preps]
    return (results[0].ecus[0].outcome if results[0].ecus else "none"), refused != must_refuse


def fresh_vehicle_state() -> None:
    """Factory ECUs, no journal and an empty audit log for the next case; the demo PKI,
    packages and image store of WORKSHOP_HOME are kept (they take seconds to make)."""
    from workshop.audit.identity import audit_dir
    from workshop.simulator.state import reset_state

    reset_state("demo-car")
    journal = journal_dir("demo-car")
    if journal.is_symlink():
        journal.unlink()
    shutil.rmtree(journal, ignore_errors=True)
    shutil.rmtree(audit_dir(), ignore_errors=True)


def run_case(seed: int, folder: Path) -> CaseResult:
    fresh_vehicle_state()
    rng = random.Random(seed)
    ecu = rng.choice(ECUS)
    fault = FAULTS[seed % len(FAULTS)]
    mode = rng.choice(("plain", "lz4", "bsdiff4") if ecu == "ENGINE" else ("plain", "lz4"))
    new_pkg, old, new = packages(folder, ecu)
    if seed % 2:  # the index names a placed, unsigned file as 1.0.0: rollback must not use it
        edit_index(ecu)
    vehicle = load_vehicle(bench_vehicle(folder))
    adapter = AdapterConfig(channel=f"campaign-{uuid.uuid4()}")
    resumed: str | None = None
    with VehicleConnection(adapter, vehicle) as conn:
        prep = prepare_flash(conn, new_pkg, mode=mode, only=[ecu],
                             overrides={"rollback": "fault campaign"})
        assert prep.plan is not None and prep.ready, prep.plan and prep.plan.blocking_reasons()
        helper = inject(conn, ecu, fault, rng, prep.plan.ecu(ecu).wire_bytes)
        outcome = run_flash(conn, prep).ecus[0]
        if helper is not None:
            helper.done()
        sim = conn.simulator
        assert sim is not None
        sim.fault(ecu).clear()
        sim.bus_off(False)
        sim.fault(ecu).powered.wait(5)
        seen = truth(conn, ecu, old, new)
        wrong = seen not in CONSISTENT[outcome.outcome]
        final = seen
        wrong = wrong or _last_ecu_outcome(ecu) not in (outcome.outcome, None)
        # spread so that the test's seeds (two per fault) meet every journal fault
        kind = JOURNAL_FAULTS[(3 * seed + seed // len(FAULTS)) % len(JOURNAL_FAULTS)]
        if outcome.outcome == "resumable":
            must_refuse = tamper_journal(kind, ecu, folder)
            # "nothing to resume": the ECU kept its old image, truth says so
            resumed, refusal_wrong = resume_all(conn, must_refuse)
            final = truth(conn, ecu, old, new)
            wrong = wrong or refusal_wrong or (resumed == "success") != (final == "new")
            if resumed not in ("nothing to resume", "none"):
                wrong = wrong or _last_ecu_outcome(ecu) != resumed
    return CaseResult(seed, ecu, mode, fault, outcome.outcome, resumed,
                      final not in ("new", "old"), wrong, not _audit_ok(), _describe(outcome),
                      _intents_open(), kind)


# Steps at which a kill -9 of the tool lands (the first step whose name starts so).
KILL_STEPS = ("fingerprint", "erase", "download", "check memory", "reset", "confirm version")


def child_flash(pkg: str, ecu: str, at: str, vehicle: str) -> None:
    """In a child process: flash, and stop dead at step `at` (the parent kills it there)."""
    from workshop.foundation.events import EcuStep

    def events(event: object) -> None:
        if isinstance(event, EcuStep) and event.step.startswith(at):
            print("at", event.step, flush=True)
            threading.Event().wait()  # until kill -9

    with VehicleConnection(AdapterConfig(channel=f"campaign-{uuid.uuid4()}"),
                           load_vehicle(vehicle)) as conn:
        prep = prepare_flash(conn, Path(pkg), only=[ecu],
                             overrides={"rollback": "fault campaign"})
        run_flash(conn, prep, events=events)
    print("finished", flush=True)


def run_kill_case(seed: int, folder: Path) -> CaseResult:
    """kill -9 of the tool at a step; the next run must close the open intents with what the
    ECU runs (consistent with the truth then), and the resume must end in the truth."""
    fresh_vehicle_state()
    rng = random.Random(seed)
    ecu, at = rng.choice(ECUS), rng.choice(KILL_STEPS)
    new_pkg, old, new = packages(folder, ecu)
    vehicle = bench_vehicle(folder)
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child",
                              str(new_pkg), ecu, at, str(vehicle)], stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    with VehicleConnection(AdapterConfig(channel=f"campaign-{uuid.uuid4()}"),
                           load_vehicle(vehicle)) as conn:
        before = truth(conn, ecu, old, new)
        resumed, _ = resume_all(conn, False)  # closes the open intents first
        closed = _last_ecu_outcome(ecu, found_after_interruption=True) or "none"
        final = truth(conn, ecu, old, new)
    verdict = closed if resumed in ("nothing to resume", "none") else resumed
    wrong = (closed not in CONSISTENT or before not in CONSISTENT[closed]
             or verdict not in CONSISTENT or final not in CONSISTENT[verdict])
    return CaseResult(seed, ecu, "auto", f"kill@{at}", closed, resumed,
                      final not in ("new", "old"), wrong, not _audit_ok(),
                      f"{line}; the ECU ran {before}, then {final}", _intents_open())


def _describe(o: EcuOutcome) -> str:
    return f"{o.outcome}: {o.detail}"[:160]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--kill", type=int, default=0,
                    help="also this many kill -9 cases (a process each), from seed --first")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_flash(*args.child)
        return 0
    logging.disable(logging.WARNING)  # udsoncan logs every NRC; the figures are the output
    counts: Counter[str] = Counter()
    bad: list[CaseResult] = []
    started = time.monotonic()
    home = tempfile.TemporaryDirectory()
    os.environ["WORKSHOP_HOME"] = home.name
    cases = [(run_case, s) for s in range(args.first, args.first + args.seeds)]
    cases += [(run_kill_case, s) for s in range(args.first, args.first + args.kill)]
    for n, (run, seed) in enumerate(cases):
        with tempfile.TemporaryDirectory() as tmp:
            r = run(seed, Path(tmp))
        counts[f"{r.fault}/{r.outcome}" + (f"->{r.journal} journal->{r.resumed}"
                                            if r.resumed else "")] += 1
        if r.bad:
            bad.append(r)
            print(f"seed {seed}: BAD {r}", flush=True)
        if (n + 1) % 100 == 0:
            print(f"{n + 1} runs, {len(bad)} bad", flush=True)
    home.cleanup()
    print(f"{len(cases)} runs in {time.monotonic() - started:.0f} s")
    for key, n in sorted(counts.items()):
        print(f"  {key:<40} {n}")
    print(f"bricked: {sum(r.bricked for r in bad)}")
    print(f"verdict != ECU truth: {sum(r.verdict_wrong for r in bad)}")
    print(f"audit records lost: {sum(r.audit_lost for r in bad)}")
    print(f"intents left open: {sum(r.intents_open for r in bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
