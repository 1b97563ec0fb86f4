"""Programming one ECU: the canonical sequence, each step visible, audited and bounded in
time by what the profile says the step takes; then confirmation, and rollback when the
confirmation fails.

The outcome is what the ECU really is at the end, found out by asking it, not assumed from
which step failed: an A/B ECU that failed before its reset still runs its old image
("failed", nothing changed), a single-bank ECU that lost its application waits in its
bootloader ("resumable").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from workshop.flash import codec, readout
from workshop.flash.errors import StepError
from workshop.flash.events import TASK, FlashProgress
from workshop.flash.plan import READOUT, EcuPlan, RegionTransfer
from workshop.flash.result import EcuOutcome
from workshop.flash.security import security_refusal
from workshop.flash.transfer import RateMeter, download, encode
from workshop.foundation.events import EcuStep, EventSink
from workshop.packages import images
from workshop.packages.manifest import Region
from workshop.packages.verify import VerifiedPackage
from workshop.transport.errors import TransportError
from workshop.uds.application import read_application_version
from workshop.uds.client import EcuClient
from workshop.uds.errors import (
    EcuTimeoutError,
    NegativeResponseError,
    UdsError,
)
from workshop.vehicles.flash_profile import RoutineSpec

SESSION_LIMIT_S = 10.0
ROUTINE_MARGIN_S = 10.0
CHECK_LIMIT_S = 30.0
REBOOT_POLL_S = 0.25
SECURITY_RETRY_S = 0.5  # how often a seed is asked for again while NRC 0x37 lasts


class EcuFlash:
    def __init__(self, ecu: EcuClient, plan: EcuPlan, package: VerifiedPackage, *,
                 audit: Callable[[str, dict[str, object]], None], events: EventSink,
                 bus_limit_bps: float, fingerprint: bytes,
                 on_stage: Callable[[str], None],
                 fingerprints: Mapping[int, bytes] | None = None) -> None:
        self.ecu, self.plan, self.package = ecu, plan, package
        self.audit, self.events = audit, events
        self.bus_limit_bps = bus_limit_bps
        self.fingerprint = fingerprint
        self.on_stage = on_stage
        self.profile = plan.profile
        # Each fingerprint DID with its value; the first (default) one is the recognisable one.
        self.fingerprints = dict(fingerprints or {self.profile.fingerprint_did: fingerprint})
        self.unlocked: int | None = None
        p = self.profile
        ecu.keepalive_period_s = p.tester_present_ms / 1000 if p.tester_present == "physical" \
            else 0.0
        if p.p2_ms is not None or p.p2_star_ms is not None:
            ecu.override_timing(None if p.p2_ms is None else p.p2_ms / 1000,
                                None if p.p2_star_ms is None else p.p2_star_ms / 1000)
        self.meter = RateMeter()
        self.step_index = 0
        self.programming = False  # past the safe point: the ECU may be changed
        self.started = time.monotonic()

    # -- steps ------------------------------------------------------------------------------

    @contextmanager
    def step(self, name: str, **details: object) -> Iterator[dict[str, object]]:
        self.step_index += 1
        total = max(len(self.plan.steps), self.step_index)
        # The step starts once its intent is on record: its event says so then, and the
        # step's time (progress, ETA, benchmarks) is the ECU's, not the audit log's fsync.
        self.audit("flash.step", {"phase": "intent", "step": name, **details})
        self.events(EcuStep(TASK, self.plan.ecu, name, self.step_index, total))
        result: dict[str, object] = {}
        try:
            yield result
        except BaseException as exc:
            nrc = exc.nrc if isinstance(exc, NegativeResponseError) else None
            self.audit("flash.step", {"phase": "outcome", "step": name, "ok": False,
                                      "error": str(exc), "nrc": nrc, **result})
            raise
        self.audit("flash.step", {"phase": "outcome", "step": name, "ok": True, **result})

    def progress(self, step: str, done: int, total: int) -> None:
        rate = self.meter.add(0)
        remaining = max(total - done, 0)
        eta = remaining / rate if rate > 0 else None
        self.events(FlashProgress(TASK, self.plan.ecu, step, done, total, self.meter.total,
                                  rate, self.bus_limit_bps, eta, not self.programming))

    def prepare(self) -> codec.Preconditions | None:
        """Extended session and the preconditions routine: nothing is changed yet."""
        with self.step("extended session", session=f"0x{self.profile.extended_session:02X}"):
            self.ecu.change_session(self.profile.extended_session)
        spec = self.profile.preconditions
        if spec is None:
            return None
        with self.step("preconditions", routine=f"0x{spec.id:04X}") as out:
            answer = self.ecu.routine(spec.id, 1, codec.routine_args(spec.layout, self._none()),
                                      timeout_s=ROUTINE_MARGIN_S)
            found = codec.parse_preconditions(answer, self.profile.precondition_answer)
            out["readings"] = found.to_json()
            if not found.met:
                raise StepError(f"{self.plan.ecu}: programming preconditions "
                                f"{found.describe()}",
                                hint="stop the vehicle, switch the ignition on, connect a "
                                     "battery charger, then try again")
        return found

    def program(self, transfers: list[RegionTransfer] | None = None,
                images_by_region: dict[int, bytes] | None = None) -> None:
        """Programming session to check dependencies (the ECU is changed from here on)."""
        self.programming = True
        self.unlocked = None
        with self.step("programming session",
                       session=f"0x{self.profile.programming_session:02X}"), \
                self.ecu.operation_timeout(SESSION_LIMIT_S):
            self.ecu.change_session(self.profile.programming_session)
        self._unlock(self.profile.security_level)
        if transfers is None and self.plan.rollback == READOUT:
            self._read_out()
        if self.profile.fingerprint_when == "before_erase":
            self._fingerprint()
        self.on_stage("programming")
        for t in transfers if transfers is not None else self.plan.transfers:
            image = (images_by_region or {}).get(t.index) or self.package.region_image(t.region)
            self._region(t, image)
        if self.profile.fingerprint_when == "after_download":
            self._fingerprint()
        deps = self.profile.check_dependencies
        if deps is not None:
            self._unlock(self.profile.level_for("check_dependencies"))
            with self.step("check dependencies", routine=f"0x{deps.id:04X}"):
                answer = self.run_routine(deps, codec.routine_args(deps.layout, self._none()),
                                       CHECK_LIMIT_S, "check dependencies")
                if codec.routine_status(answer) != deps.status_ok:
                    raise StepError(f"{self.plan.ecu} refused the new software: check "
                                    f"programming dependencies answered "
                                    f"{answer[3:].hex() or 'nothing'}",
                                    hint="the package may not match this ECU or its other "
                                         "software; the ECU keeps or waits for a valid image")
        self.on_stage("checked")

    def _none(self) -> codec.ArgValues:
        return codec.ArgValues(self.profile.address_and_length_format, 0, 0, 0, 0)

    def _read_out(self) -> None:
        readout.keep_running_image(self)

    def _fingerprint(self) -> None:
        self._unlock(self.profile.level_for("fingerprint"))
        for did, value in self.fingerprints.items():
            with self.step("fingerprint", did=f"0x{did:04X}", value=value.hex()):
                self.ecu.write_did(did, value)

    def _unlock(self, level: int) -> None:
        """Security access at `level` unless already there; NRC 0x37 (the ECU's delay after
        power-on or failed attempts) is waited out, 0x36 stops in words."""
        if self.unlocked == level:
            return
        with self.step("security access", level=f"0x{level:02X}") as out:
            deadline = time.monotonic() + self.profile.security_delay_ms / 1000
            waited = False
            while True:
                try:
                    self.ecu.unlock(level, self.profile.seed_key)
                    break
                except NegativeResponseError as exc:
                    if exc.nrc == 0x37 and time.monotonic() < deadline:
                        waited = True
                        time.sleep(SECURITY_RETRY_S)
                        continue
                    refusal = security_refusal(self.plan.ecu, exc, level,
                                               self.profile.security_delay_ms)
                    if refusal is None:
                        raise
                    raise refusal from exc
            if waited:
                out["waited"] = "NRC 0x37 requiredTimeDelayNotExpired, waited it out"
        self.unlocked = level

    def run_routine(self, spec: RoutineSpec, args: bytes, limit_s: float, what: str) -> bytes:
        """Start the routine and wait for its completion the way the profile says: in the
        answer, by repeating the start while the status says busy, or by polling 31 03."""
        answer = self.ecu.routine(spec.id, 1, args, timeout_s=limit_s)
        if spec.completion == "answer":
            return answer
        deadline = time.monotonic() + limit_s
        while True:
            status = codec.routine_status(answer)
            if status is not None and status != spec.status_busy:
                return answer
            if time.monotonic() > deadline:
                raise StepError(f"{self.plan.ecu}: {what} did not finish within "
                                f"{limit_s:g} s (status still "
                                f"{'none' if status is None else f'0x{status:02X}'})",
                                hint="the ECU keeps working; check its supply and try again")
            time.sleep(spec.poll_ms / 1000)
            try:  # a poll is idempotent: one whose answer was lost is simply sent again
                if spec.completion == "repeat_start":
                    answer = self.ecu.routine(spec.id, 1, args, timeout_s=limit_s)
                else:
                    answer = self.ecu.routine(spec.id, 3, timeout_s=limit_s)
            except EcuTimeoutError:
                if time.monotonic() > deadline:
                    raise
                answer = b""  # no status: poll again

    def _region(self, t: RegionTransfer, image: bytes) -> None:
        r = t.region
        definition = self.plan.definition
        _, memory = codec.memory_range(definition, r.erase_address, r.erase_length)
        spec = (memory.erase if memory is not None and memory.erase else self.profile.erase)
        erase_limit = ROUTINE_MARGIN_S + 3 * t.erase_s
        self._unlock(self.profile.level_for("erase"))
        values = codec.region_values(definition, r, erase=True)
        with self.step(f"erase region {t.index}", routine=f"0x{spec.id:04X}",
                       address=f"0x{r.erase_address:X}", length=r.erase_length,
                       block=values.block):
            answer = self.run_routine(spec, codec.routine_args(spec.layout, values), erase_limit,
                                   f"erase of region {t.index}")
            status = codec.routine_status(answer)
            if status != spec.status_ok and not (status is None
                                                 and spec.completion == "answer"):
                raise StepError(f"{self.plan.ecu}: erase failed (status 0x{status or 0:02X})")
        patch = (self.package.read_payload(r.delta.payload.file)
                 if t.mode == "bsdiff4" and r.delta else None)
        oem = t.mode == "oem"  # the package's own encoding: sent as it is, never decoded
        data = image if oem else encode(t.mode, image, patch)
        size = r.length if oem else len(image)
        name = f"download region {t.index} ({t.mode})"
        self._unlock(self.profile.level_for("download"))
        address = values.block if self.profile.download_address == "block" else r.address
        with self.step(name, address=f"0x{r.address:X}", image_bytes=size,
                       wire_bytes=len(data), data_format=f"0x{t.data_format:02X}") as out:
            done = 0

            def block(n: int) -> None:
                nonlocal done
                done += n
                self.meter.add(n)
                self.progress(name, done, len(data))

            out["block_length"] = download(self.ecu, self.profile, data_format=t.data_format,
                                           address=address, image_size=size,
                                           data=data, on_block=block)
        check = (memory.check_memory if memory is not None and memory.check_memory
                 else self.profile.check_memory)
        method = self.plan.update.check_memory
        self._unlock(self.profile.level_for("check_memory"))
        with self.step(f"check memory region {t.index}", routine=f"0x{check.id:04X}",
                       args=list(check.layout)):
            values = codec.region_values(definition, r, erase=False,
                                         image=None if oem else image, method=method)
            answer = self.run_routine(check, codec.routine_args(check.layout, values),
                                   CHECK_LIMIT_S, f"memory check of region {t.index}")
            if codec.routine_status(answer) != check.status_ok:
                raise StepError(f"{self.plan.ecu}: memory check of region {t.index} failed: "
                                "what the ECU holds is not the package image",
                                hint="flash again; if it repeats, the ECU's memory is faulty")

    # -- after the programming --------------------------------------------------------------

    def reset_and_confirm(self, expected: str | None) -> str | None:
        """Reset, wait for the ECU to come back, and return the version it reports (None:
        it came back in its bootloader). Raises StepError when it does not come back."""
        with self.step("reset", type=self.profile.reset_type) as out:
            try:
                self.ecu.reset(self.profile.reset_type)
            except EcuTimeoutError:
                # The answer can be lost while the ECU does reset: what it runs now decides.
                out["answer"] = "none; the ECU is asked what it runs"
        with self.step("confirm version", expected=expected) as out:
            version = self.read_version(self.profile.reset_wait_ms / 1000)
            out["version"] = version
        return version

    def read_version(self, limit_s: float) -> str | None:
        """The application version, None when the ECU answers from its bootloader."""
        deadline = time.monotonic() + limit_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with self.ecu.operation_timeout(max(0.1, min(2.0, deadline - time.monotonic()))):
                    return read_application_version(self.ecu, self.profile)
            except NegativeResponseError as exc:
                last = exc
            except (UdsError, TransportError) as exc:  # the adapter off the bus, too
                last = exc
            time.sleep(REBOOT_POLL_S)
        raise StepError(f"{self.plan.ecu} did not come back after its reset"
                        + (f": {last}" if last else ""),
                        hint="check the ECU's power supply; run 'workshop flash resume' when "
                             "it answers again")

    def rollback(self, version_before: str | None) -> str | None:
        """Bring back the previous image; the version the ECU then reports."""
        self.step_index = 0
        if self.profile.banks == "ab" and self.profile.rollback is not None:
            spec = self.profile.rollback
            self._enter_programming()
            with self.step("rollback: previous bank", routine=f"0x{spec.id:04X}"):
                answer = self.run_routine(spec, codec.routine_args(spec.layout, self._none()),
                                       CHECK_LIMIT_S, "rollback")
                if codec.routine_status(answer) != spec.status_ok:
                    raise StepError(f"{self.plan.ecu}: the previous bank holds no valid image")
            return self.reset_and_confirm(version_before)
        stored = self.plan.rollback_images  # hashes proven by a signed package or record
        if not stored:
            raise StepError(f"no proven image of {version_before} for {self.plan.ecu} in the "
                            "local image store")
        transfers, data = [], {}
        for i, s in enumerate(stored):
            region = Region(s.address, s.length, s.erase_address, s.erase_length, s.sha256,
                            0, None)
            mode = "lz4" if self.profile.supports("lz4") else "plain"
            transfers.append(RegionTransfer(i, region, mode, self.profile.data_formats[mode],
                                            s.length, 0.0, 0.0, 0.0))
            data[i] = images.get_image(s.sha256)
        self.program(transfers, data)
        return self.reset_and_confirm(version_before)

    def _enter_programming(self) -> None:
        p = self.profile
        self.unlocked = None
        with self.step("programming session"), self.ecu.operation_timeout(SESSION_LIMIT_S):
            try:
                self.ecu.change_session(p.programming_session)
            except NegativeResponseError:
                # From the application, programming is reached through extended.
                self.ecu.change_session(p.extended_session)
                self.ecu.change_session(p.programming_session)
        self._unlock(p.security_level)

    def outcome(self, kind: str, before: str | None, after: str | None, detail: str,
                failed_step: str | None = None) -> EcuOutcome:
        return EcuOutcome(self.plan.ecu, kind, before, after, self.plan.mode,
                          self.meter.total, self.plan.image_bytes,
                          time.monotonic() - self.started, detail, failed_step)
