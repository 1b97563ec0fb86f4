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
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from workshop.flash import codec
from workshop.flash.events import TASK, FlashProgress
from workshop.flash.plan import EcuPlan, RegionTransfer
from workshop.flash.result import EcuOutcome
from workshop.flash.transfer import RateMeter, download, encode
from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import EcuStep, EventSink
from workshop.packages import images
from workshop.packages.manifest import Region
from workshop.packages.verify import VerifiedPackage
from workshop.uds.client import EXTENDED_SESSION, PROGRAMMING_SESSION, EcuClient
from workshop.uds.errors import EcuTimeoutError, NegativeResponseError, UdsError
from workshop.uds.identity import decode_did_value

SESSION_LIMIT_S = 10.0
ROUTINE_MARGIN_S = 10.0
CHECK_LIMIT_S = 30.0
REBOOT_LIMIT_S = 15.0
REBOOT_POLL_S = 0.25


class StepError(WorkshopError):
    """A step that did not do what it must (routine status not 0, wrong version...)."""


class EcuFlash:
    def __init__(self, ecu: EcuClient, plan: EcuPlan, package: VerifiedPackage, *,
                 audit: Callable[[str, dict[str, object]], None], events: EventSink,
                 bus_limit_bps: float, fingerprint: bytes,
                 on_stage: Callable[[str], None]) -> None:
        self.ecu, self.plan, self.package = ecu, plan, package
        self.audit, self.events = audit, events
        self.bus_limit_bps = bus_limit_bps
        self.fingerprint = fingerprint
        self.on_stage = on_stage
        self.profile = plan.profile
        self.meter = RateMeter()
        self.step_index = 0
        self.programming = False  # past the safe point: the ECU may be changed
        self.started = time.monotonic()

    # -- steps ------------------------------------------------------------------------------

    @contextmanager
    def step(self, name: str, **details: object) -> Iterator[dict[str, object]]:
        self.step_index += 1
        total = max(len(self.plan.steps), self.step_index)
        self.events(EcuStep(TASK, self.plan.ecu, name, self.step_index, total))
        self.audit("flash.step", {"phase": "intent", "step": name, **details})
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
        with self.step("extended session"):
            self.ecu.change_session(EXTENDED_SESSION)
        spec = self.profile.preconditions
        if spec is None:
            return None
        with self.step("preconditions", routine=f"0x{spec.id:04X}") as out:
            answer = self.ecu.routine(spec.id, 1, timeout_s=ROUTINE_MARGIN_S)
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
        with self.step("programming session"), self.ecu.operation_timeout(SESSION_LIMIT_S):
            self.ecu.change_session(PROGRAMMING_SESSION)
        with self.step("security access", level=f"0x{self.profile.security_level:02X}"):
            self.ecu.unlock(self.profile.security_level)
        with self.step("fingerprint", did=f"0x{self.profile.fingerprint_did:04X}",
                       value=self.fingerprint.hex()):
            self.ecu.write_did(self.profile.fingerprint_did, self.fingerprint)
        self.on_stage("programming")
        for t in transfers if transfers is not None else self.plan.transfers:
            image = (images_by_region or {}).get(t.index) or self.package.region_image(t.region)
            self._region(t, image)
        deps = self.profile.check_dependencies
        if deps is not None:
            with self.step("check dependencies", routine=f"0x{deps.id:04X}"):
                answer = self.ecu.routine(deps.id, 1, timeout_s=CHECK_LIMIT_S)
                if codec.routine_status(answer) != 0:
                    raise StepError(f"{self.plan.ecu} refused the new software: check "
                                    f"programming dependencies answered "
                                    f"{answer[3:].hex() or 'nothing'}",
                                    hint="the package may not match this ECU or its other "
                                         "software; the ECU keeps or waits for a valid image")
        self.on_stage("checked")

    def _region(self, t: RegionTransfer, image: bytes) -> None:
        r, spec = t.region, self.profile.erase
        definition = self.plan.definition
        erase_limit = ROUTINE_MARGIN_S + 3 * t.erase_s
        with self.step(f"erase region {t.index}", routine=f"0x{spec.id:04X}",
                       address=f"0x{r.erase_address:X}", length=r.erase_length):
            answer = self.ecu.routine(spec.id, 1, codec.erase_args(spec, definition, r),
                                      timeout_s=erase_limit)
            if codec.routine_status(answer) not in (None, 0):
                raise StepError(f"{self.plan.ecu}: erase failed (status "
                                f"0x{answer[3]:02X})")
        patch = (self.package.read_payload(r.delta.payload.file)
                 if t.mode == "bsdiff4" and r.delta else None)
        data = encode(t.mode, image, patch)
        name = f"download region {t.index} ({t.mode})"
        with self.step(name, address=f"0x{r.address:X}", image_bytes=len(image),
                       wire_bytes=len(data), data_format=f"0x{t.data_format:02X}") as out:
            done = 0

            def block(n: int) -> None:
                nonlocal done
                done += n
                self.meter.add(n)
                self.progress(name, done, len(data))

            out["block_length"] = download(self.ecu, self.profile, data_format=t.data_format,
                                           address=r.address, image_size=len(image),
                                           data=data, on_block=block)
        check = self.profile.check_memory
        method = self.plan.update.check_memory
        with self.step(f"check memory region {t.index}", routine=f"0x{check.id:04X}",
                       method=method):
            answer = self.ecu.routine(check.id, 1, codec.checksum_args(method, image),
                                      timeout_s=CHECK_LIMIT_S)
            if codec.routine_status(answer) != 0:
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
            version = self.read_version(REBOOT_LIMIT_S)
            out["version"] = version
        return version

    def read_version(self, limit_s: float) -> str | None:
        """The application version, None when the ECU answers from its bootloader."""
        deadline = time.monotonic() + limit_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with self.ecu.operation_timeout(max(0.1, min(2.0, deadline - time.monotonic()))):
                    return decode_did_value(self.ecu.read_did(0xF189))
            except NegativeResponseError as exc:
                if exc.nrc == 0x31:
                    return None
                last = exc
            except UdsError as exc:
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
                answer = self.ecu.routine(spec.id, 1, timeout_s=CHECK_LIMIT_S)
                if codec.routine_status(answer) != 0:
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
        with self.step("programming session"), self.ecu.operation_timeout(SESSION_LIMIT_S):
            try:
                self.ecu.change_session(PROGRAMMING_SESSION)
            except NegativeResponseError:
                # From the application, programming is reached through extended.
                self.ecu.change_session(EXTENDED_SESSION)
                self.ecu.change_session(PROGRAMMING_SESSION)
        with self.step("security access", level=f"0x{self.profile.security_level:02X}"):
            self.ecu.unlock(self.profile.security_level)

    def outcome(self, kind: str, before: str | None, after: str | None, detail: str,
                failed_step: str | None = None) -> EcuOutcome:
        return EcuOutcome(self.plan.ecu, kind, before, after, self.plan.mode,
                          self.meter.total, self.plan.image_bytes,
                          time.monotonic() - self.started, detail, failed_step)
