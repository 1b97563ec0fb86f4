"""Carry out a flash plan on the vehicle: every ECU of the plan, dependencies first, the
independent ones of a wave in parallel on the same bus.

Safe points, where a cancel takes effect: before the first ECU enters its programming
session, and between waves. Once an ECU is in its programming session its flash runs to a
known state (done, rolled back, or waiting in its bootloader for a resume), because stopping
half-way leaves a single-bank ECU without an application.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field

from workshop.audit.bracket import intent_and_outcome
from workshop.audit.store import AuditLog
from workshop.flash import codec, journal
from workshop.flash.bus import FlashBus
from workshop.flash.ecu_flash import EcuFlash, StepError
from workshop.flash.errors import PlanBlockedError
from workshop.flash.events import TASK, FlashOverall
from workshop.flash.plan import EcuPlan, FlashPlan, RegionTransfer
from workshop.flash.result import SEVERITY, EcuOutcome, FlashResult
from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import CancelToken, EcuFinished, EcuStarted, EventSink
from workshop.packages import images
from workshop.uds.client import EcuClient

SETTLE_LIMIT_S = 8.0
FUNCTIONAL_KEEPALIVE_S = 2.0
# Suppressed (SPRMIB) functional requests: every ECU on the bus, no answers awaited.
TO_EXTENDED, TESTER_PRESENT = b"\x10\x83", b"\x3e\x80"
DTC_SETTING_OFF, DTC_SETTING_ON = b"\x85\x82", b"\x85\x81"
TO_DEFAULT = b"\x10\x81"


@dataclass(frozen=True)
class FlashJob:
    plan: FlashPlan
    package_sha256: str
    technician: str
    vin: str | None
    dtcs_before: Mapping[str, list[str] | None]
    # ECU -> seq of the signed flash intent this run resumes (its DTCs and overrides apply)
    resume_of: Mapping[str, int] = field(default_factory=dict)


def package_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Executor:
    def __init__(self, job: FlashJob, bus: FlashBus, log: AuditLog, *,
                 events: EventSink, cancel: CancelToken) -> None:
        self.job, self.bus, self.log = job, bus, log
        self.plan = job.plan
        self.events, self.cancel = events, cancel
        self._audit_lock = threading.Lock()
        self._finished = 0
        self._keepalive_stop = threading.Event()
        self._flash_seq: int | None = None
        self._keepalive_s = FUNCTIONAL_KEEPALIVE_S

    def audit(self, ecu: str | None, action: str, details: dict[str, object]) -> None:
        with self._audit_lock:
            self.log.append(action, vin=self.job.vin, ecu=ecu,
                            technician=self.job.technician, details=details)

    def overall(self, phase: str, safe: bool) -> None:
        remaining = [e.estimate_s for e in self.plan.ecus][self._finished:]
        self.events(FlashOverall(TASK, self._finished, len(self.plan.ecus),
                                 sum(remaining) if remaining else 0.0, phase, safe))

    # -- the whole flash ----------------------------------------------------------------------

    def run(self) -> FlashResult:
        if self.plan.blocked:
            raise PlanBlockedError("the flash plan is blocked: "
                                   + "; ".join(self.plan.blocking_reasons()),
                                   hint="fix what the plan names, or override an overridable "
                                        "check with a reason")
        started = time.monotonic()
        m = self.plan.package.manifest
        # What a resume may apply is taken from this signed record, not from the journal:
        # vehicle, package (path and hash), overrides with reasons, DTCs stored before.
        request = {"vehicle": self.plan.vehicle.name, "package": m.id,
                   "package_version": m.version, "package_sha256": self.job.package_sha256,
                   "package_path": str(self.plan.package.path),
                   "signer": self.plan.package.chain.describe(),
                   "overrides": self.plan.overrides(),
                   "dtcs_before": {e.ecu: self.job.dtcs_before.get(e.ecu)
                                   for e in self.plan.ecus},
                   "resume_of": dict(self.job.resume_of),
                   "ecus": {e.ecu: {"from": e.version_before,
                                    "to": e.update.new_version, "mode": e.mode,
                                    "resume": e.resume} for e in self.plan.ecus}}
        outcomes: dict[str, EcuOutcome] = {}
        with intent_and_outcome(self.log, "flash", vin=self.job.vin, ecu="*",
                                technician=self.job.technician, details=request) as intent:
            self._flash_seq = intent.record.seq
            try:
                self._run(outcomes)
            finally:
                result = FlashResult(m.id, [outcomes[e.ecu] for e in self.plan.ecus
                                            if e.ecu in outcomes],
                                     time.monotonic() - started)
                intent.result = result.to_json()
                # the ECUs' outcome, worst first: never "success" unless every ECU confirmed
                intent.outcome = result.worst
                if len(result.ecus) < len(self.plan.ecus):  # stopped by an error midway
                    intent.outcome = max(intent.outcome, "failed", key=SEVERITY.__getitem__)
        return result

    def _run(self, outcomes: dict[str, EcuOutcome]) -> None:
        with ExitStack() as stack:
            clients: dict[str, EcuClient] = {}
            flashers: dict[str, EcuFlash] = {}
            self.overall("prepare", True)
            try:  # before anything changes: a flash that cannot keep resume state stops here
                journal.check_usable(self.plan.vehicle.name)
            except WorkshopError as exc:
                for e in self.plan.ecus:
                    outcomes[e.ecu] = _refused(e, f"not started: {exc.message}")
                    self._finish(outcomes[e.ecu])
                return
            for e in self.plan.ecus:
                if self.cancel.cancelled:
                    outcomes[e.ecu] = _refused(e, "cancelled before programming; unchanged")
                    continue
                self.events(EcuStarted(TASK, e.ecu))
                try:
                    clients[e.ecu] = stack.enter_context(self.bus.client(e.ecu))
                    flashers[e.ecu] = self._flasher(clients[e.ecu], e)
                except WorkshopError as exc:
                    outcomes[e.ecu] = _refused(e, f"not started: {exc.message}")
                    self._finish(outcomes[e.ecu])

            def prepare(name: str) -> None:
                try:
                    flashers[name].prepare()
                except WorkshopError as exc:
                    outcomes[name] = _refused(self.plan.ecu(name), f"not started: {exc.message}")
                    self._finish(outcomes[name])

            _parallel(prepare, list(flashers))  # nothing changes yet: all ECUs at once
            flashers = {n: f for n, f in flashers.items() if n not in outcomes}
            if not flashers:
                return
            self._vehicle_quiet(True, stack)
            for wave in self.plan.waves:
                self._wave(wave, flashers, outcomes)
            self._vehicle_quiet(False, stack)
            done = [n for n in flashers
                    if outcomes.get(n) and outcomes[n].outcome in ("success", "rolled_back")]
            _parallel(lambda n: self._programming_dtcs(flashers[n], outcomes[n]), done)

    def _flasher(self, client: EcuClient, e: EcuPlan) -> EcuFlash:
        fp = codec.fingerprint(self.job.technician, self.job.package_sha256)
        now = dt.datetime.now(dt.UTC)
        fps = {s.did: codec.fingerprint(self.job.technician, self.job.package_sha256, now,
                                        s.template) for s in e.profile.fingerprints}

        def stage(name: str) -> None:
            journal.write(journal.JournalEntry(
                self.plan.vehicle.name, e.ecu, str(self.plan.package.path),
                self.job.package_sha256, self.plan.package.manifest.id,
                e.version_before, e.update.new_version, fp.hex(), name,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                {k.partition(".")[2]: v for k, v in self.plan.overrides().items()
                 if k.startswith(f"{e.ecu}.")}, self._flash_seq))

        return EcuFlash(client, e, self.plan.package,
                        audit=lambda action, d: self.audit(e.ecu, action, d),
                        events=self.events, bus_limit_bps=self.plan.bus_limit_bps,
                        fingerprint=fp, on_stage=stage, fingerprints=fps)

    def _forget(self, ecu: str) -> None:
        """The ECU's final state is known: its journal goes. One that cannot be removed is
        harmless (resume asks the ECU first), so it never turns a known outcome into an error."""
        with suppress(WorkshopError):
            journal.remove(self.plan.vehicle.name, ecu)

    def _vehicle_quiet(self, quiet: bool, stack: ExitStack) -> None:
        """Functional DTC setting off / communication control off for the whole vehicle,
        kept with a functional TesterPresent; and back on."""
        p = [e.profile for e in self.plan.ecus]
        # Each distinct request the profiles describe, once (dict: ordered, no repeats).
        dtc_off = {DTC_SETTING_OFF + x.dtc_setting_record: None for x in p
                   if x.dtc_setting_off}
        comm_off = {bytes([0x28, 0x80 | x.communication_control_type,
                           x.communication_type]): None for x in p if x.communication_control}
        if quiet:
            self._send_functional(TO_EXTENDED)
            for payload in [*dtc_off, *comm_off]:
                self._send_functional(payload)
            self._keepalive_s = min([x.tester_present_ms / 1000 for x in p]
                                    + [FUNCTIONAL_KEEPALIVE_S])
            thread = threading.Thread(target=self._functional_keepalive, daemon=True,
                                      name="flash-keepalive")
            thread.start()
            stack.callback(thread.join, timeout=5)
            stack.callback(self._keepalive_stop.set)
            self.audit(None, "flash.vehicle", {"phase": "quiet", "dtc_setting": "off",
                                               "communication": "off"})
            return
        self._keepalive_stop.set()
        comm_on = {bytes([0x28, 0x80, x.communication_type]): None for x in p
                   if x.communication_control}
        dtc_on = {DTC_SETTING_ON + x.dtc_setting_record: None for x in p if x.dtc_setting_off}
        for payload in [*comm_on, *dtc_on, TO_DEFAULT]:
            self._send_functional(payload)
        self.audit(None, "flash.vehicle", {"phase": "normal", "dtc_setting": "on",
                                           "communication": "on"})

    def _send_functional(self, payload: bytes) -> None:
        with suppress(WorkshopError):  # a bus problem shows in the ECUs' own steps
            self.bus.functional(payload, window_s=0.0)

    def _functional_keepalive(self) -> None:
        while not self._keepalive_stop.wait(self._keepalive_s):
            self._send_functional(TESTER_PRESENT)

    def _wave(self, wave: list[str], flashers: dict[str, EcuFlash],
              outcomes: dict[str, EcuOutcome]) -> None:
        todo = []
        for name in wave:
            if name in outcomes or name not in flashers:
                continue
            e = self.plan.ecu(name)
            failed_deps = [d for d in e.update.depends_on
                           if d in outcomes and outcomes[d].outcome != "success"]
            if failed_deps:
                outcomes[name] = _refused(e, f"not flashed: {', '.join(failed_deps)} (a "
                                             "dependency) was not updated; unchanged")
            elif self.cancel.cancelled:
                outcomes[name] = _refused(e, "cancelled before programming; unchanged")
            else:
                todo.append(name)
                continue
            self._finish(outcomes[name])
        self.overall("programming", False)
        _parallel(lambda n: self._one(flashers[n], outcomes), todo)
        self.overall("between ECUs", True)

    def _finish(self, o: EcuOutcome) -> None:
        with self._audit_lock:
            self._finished += 1
        self.events(EcuFinished(TASK, o.ecu, o.outcome == "success", o,
                                None if o.outcome == "success" else o.detail))

    def _one(self, f: EcuFlash, outcomes: dict[str, EcuOutcome]) -> None:
        e = f.plan
        o: EcuOutcome | None = None
        try:
            with intent_and_outcome(self.log, "flash.ecu", vin=self.job.vin, ecu=e.ecu,
                                    technician=self.job.technician,
                                    details={"from": e.version_before,
                                             "to": e.update.new_version, "mode": e.mode,
                                             "flash_seq": self._flash_seq}
                                    ) as intent:
                try:
                    o = self._program(f)
                except Exception as exc:  # a defect must still end in the ECU's real state,
                    o = self._settle(f, f"internal error: {exc!r}")  # and be recorded as such
                intent.result = o.to_json()
                if o.outcome == "success":  # signed proof of what the ECU runs (rollback)
                    intent.result["regions"] = [_region_json(t) for t in e.transfers]
                intent.outcome = o.outcome
        except WorkshopError as exc:  # the audit log refused the ECU's intent or outcome
            if o is not None:
                o.detail += f"; the audit outcome was not written: {exc.message}"
            elif f.programming:
                o = self._settle(f, f"stopped: {exc.message}")
            else:
                o = _refused(e, f"not flashed: {exc.message}")
        except Exception as exc:  # a defect here must still end in the ECU's real state
            o = self._settle(f, f"internal error: {exc!r}")
        outcomes[e.ecu] = o
        self._finish(o)

    def _program(self, f: EcuFlash) -> EcuOutcome:
        e = f.plan
        before, new = e.version_before, e.update.new_version
        try:
            f.program()
        except WorkshopError as exc:
            return self._settle(f, f"programming failed: {exc.message}")
        try:
            version = f.reset_and_confirm(new)
        except WorkshopError as exc:
            return f.outcome("resumable", before, None, f"{exc.message}; the new image is "
                             "checked and waits for the ECU to start it", "confirm version")
        if version == new:
            images.remember_version(e.ecu, new, [
                images.StoredRegion(t.region.image_sha256, t.region.address, t.region.length,
                                    t.region.erase_address, t.region.erase_length)
                for t in e.transfers])
            self._forget(e.ecu)
            return f.outcome("success", before, version, f"{e.ecu} runs {version}")
        why = (f"after the reset {e.ecu} reported {version}, not {new}" if version else
               f"after the reset {e.ecu} stayed in its bootloader: the new image did not start")
        if e.resume and version is not None:
            # Already the retry of an interrupted flash, and again a good download did not
            # change what the ECU runs: another resume would do the same for ever.
            self._forget(e.ecu)
            return f.outcome("failed", before, version,
                             f"{why} after a good download, again after one retry: the ECU "
                             f"keeps running {version}; it does not start the new image (ask "
                             "the manufacturer; do not flash it again with this package)",
                             "confirm version")
        if e.rollback is None:
            return f.outcome("resumable", before, version,
                             f"{why}; no previous image to roll back to", "confirm version")
        try:
            restored = f.rollback(before)
        except WorkshopError as exc:
            return self._settle(f, f"{why}; rollback failed: {exc.message}")
        if restored == before:
            self._forget(e.ecu)
            return f.outcome("rolled_back", before, restored,
                             f"{why}; rolled back to {before} ({e.rollback})")
        return f.outcome("resumable" if restored is None else "failed", before, restored,
                         f"{why}; rollback left {restored or 'the bootloader'} running",
                         "rollback")

    def _settle(self, f: EcuFlash, why: str) -> EcuOutcome:
        """After a failure: reset the ECU out of its programming session and ask it what it
        runs, so the outcome is the ECU's state, not a guess."""
        e = f.plan
        before = e.version_before
        with suppress(WorkshopError):
            f.ecu.reset(f.profile.reset_type)
        try:
            version = f.read_version(SETTLE_LIMIT_S)
        except StepError:
            return f.outcome("resumable", before, None,
                             f"{why}; the ECU does not answer now: run 'workshop flash resume' "
                             "when it is powered and connected", "settle")
        if version is None:
            return f.outcome("resumable", before, None,
                             f"{why}; the ECU waits in its bootloader: run 'workshop flash "
                             "resume' to finish", "settle")
        self._forget(e.ecu)
        if version == e.update.new_version and before != version:
            return f.outcome("success", before, version, f"{e.ecu} runs {version}")
        return f.outcome("failed", before, version, f"{why}; the ECU still runs {version}")

    def _programming_dtcs(self, f: EcuFlash, o: EcuOutcome) -> None:
        """DTCs that appeared during programming (lost messages while communication was
        off) are cleared; ones that were there before stay for the technician."""
        known = self.job.dtcs_before.get(o.ecu)
        if known is None:  # not known what was there before: clearing could erase evidence
            o.detail += ("; DTCs stored before the flash are not known, so none was cleared "
                         "(read and judge them with 'workshop dtc')")
            return
        before = set(known)
        f.step_index = len(f.plan.steps) - 1
        try:
            with f.step("DTCs caused by programming") as out:
                new = [d for d in f.ecu.read_dtcs(details=False) if d.code not in before]
                out["new"] = [d.code for d in new]
                for dtc in new:  # one by one: the DTCs from before stay stored
                    f.ecu.clear_dtcs(dtc.dtc)
                o.dtcs_cleared = [d.code for d in new]
        except WorkshopError as exc:
            o.detail += f"; DTCs after programming not read: {exc.message}"


def _parallel(work: Callable[[str], None], names: list[str]) -> None:
    """One thread per ECU (independent ECUs share the bus, each on its own ISO-TP link)."""
    threads = [threading.Thread(target=work, args=(n,), name=f"flash-{n}", daemon=True)
               for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _region_json(t: RegionTransfer) -> dict[str, object]:
    r = t.region
    return {"address": r.address, "length": r.length, "erase_address": r.erase_address,
            "erase_length": r.erase_length, "sha256": r.image_sha256}


def _refused(e: EcuPlan, why: str) -> EcuOutcome:
    return EcuOutcome(e.ecu, "refused", e.state.software_version, e.state.software_version,
                      e.mode, 0, e.image_bytes, 0.0, why)
