"""ISO 14229-1 server logic of one simulated ECU, independent of the transport.

`handle()` takes a request and returns the replies to send, each with its delay, so that
response-pending (0x78) and slow answers are data, not threads. The services themselves live
in `simulator.services`, one module per group; this module holds the ECU's state and the
checks every request goes through (service known, session, length, suppress bit).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from workshop.simulator import bootloaders
from workshop.simulator.dtc_memory import DtcMemory
from workshop.simulator.flash_memory import FlashMemory
from workshop.simulator.protocol import DEFAULT, Nrc, Reply, ServiceSpec
from workshop.simulator.services import programming, standard_services
from workshop.simulator.services.programming import Programming
from workshop.vehicles import EcuDefinition

MAX_RESPONSE = 4095
SPRMIB = 0x80
# NRCs an ECU must not send in answer to a functional request (ISO 14229-1, 7.5).
SUPPRESSED_FUNCTIONAL_NRCS = {0x11, 0x12, 0x31, 0x7E, 0x7F}


class UdsServer:
    def __init__(self, ecu: EcuDefinition, dtcs: DtcMemory, now: Callable[[], float],
                 on_dtc_change: Callable[[], None] = lambda: None,
                 services: dict[int, ServiceSpec] | None = None,
                 flash: FlashMemory | None = None) -> None:
        self.ecu = ecu
        self.flash = flash
        self.convention = bootloaders.for_ecu(ecu)
        self.programming = Programming()
        # Hooks the runtime (ecu.py) binds to its FaultPlan; defaults: a healthy vehicle.
        self.conditions: Callable[[], tuple[int, int, bool]] = lambda: (12600, 0, True)
        self.power_cut_after: Callable[[int], int | None] = lambda _n: None
        self.boot_fails: Callable[[], bool] = lambda: False
        self.dtcs = dtcs
        self.now = now
        self.on_dtc_change = on_dtc_change
        self.services = standard_services() if services is None else dict(services)
        if flash is not None and services is None:
            self.services.update(programming.SERVICES)
            self.services.update(self.convention.services)
        self.dids: dict[int, bytes] = dict(ecu.identification)
        # DIDs whose value follows the clock (live_signals), set by the runtime
        self.live: dict[int, Callable[[float], bytes]] = {}
        self.started_at = now()
        # RoutineControl starts answered as the ECU's description says (simulator/described)
        self.routine_answers: dict[int, bytes] = {}
        self.rng = random.Random(ecu.name)
        self.clear_duration_s = 2.5 * ecu.p2_ms / 1000
        self.self_test_duration_s = 3 * ecu.p2_ms / 1000
        self.reboot()
        self.lockout_until = 0.0

    def add_service(self, sid: int, spec: ServiceSpec) -> None:
        """Answer `sid` with `spec` (e.g. a bootloader's 0x34/0x36/0x37), replacing any."""
        self.services[sid] = spec

    def reboot(self) -> None:
        self.session = DEFAULT
        self.unlocked = 0
        self.seeds: dict[int, bytes] = {}
        self.attempts = 0
        self.comm_control = 0
        self.dtc_setting_on = True
        self.routines_started: set[int] = set()
        self.programming = Programming()
        self.last_activity = self.booted_at = self.now()

    def restart(self) -> None:
        """Reset or power-up: the bootloader starts a checked new image, else what it has."""
        self.reboot()
        if self.flash is not None:
            self.flash.reboot(self.boot_fails())

    # -- session timing -------------------------------------------------------------------

    def check_s3(self) -> None:
        if self.session != DEFAULT and self.now() - self.last_activity > self.ecu.s3_ms / 1000:
            self.session = DEFAULT
            self.unlocked = 0
            self.seeds.clear()

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, request: bytes, functional: bool = False,
               injected_nrc: int | None = None) -> list[Reply]:
        self.check_s3()
        self.last_activity = self.now()
        if not request:
            return []
        sid = request[0]
        spec = self.services.get(sid)
        try:
            if injected_nrc is not None:
                raise Nrc(injected_nrc)
            if spec is None or (self.flash is not None and self.flash.in_boot_mode
                                and sid not in programming.BOOT_SERVICES):
                raise Nrc(0x11)
            if self.session not in spec.sessions:
                raise Nrc(0x7F)
            if len(request) < spec.min_length:
                raise Nrc(0x13)
            suppress = spec.has_subfunction and bool(request[1] & SPRMIB)
            if suppress:
                request = bytes([sid, request[1] & 0x7F]) + request[2:]
            result = spec.handler(self, request)
        except Nrc as nrc:
            if functional and nrc.code in SUPPRESSED_FUNCTIONAL_NRCS:
                return []
            return [Reply(0.0, bytes([0x7F, sid, nrc.code]))]
        replies = [Reply(0.0, result)] if isinstance(result, bytes) else result or []
        if suppress and not any(r.is_pending for r in replies):
            # ISO 14229-1: once 0x78 went out, the final positive answer is sent even with
            # the suppress bit set; without one it is suppressed.
            replies = [r for r in replies if r.data[0] == 0x7F]
        for r in replies:
            if len(r.data) > MAX_RESPONSE:
                r.data = bytes([0x7F, sid, 0x14])
        # ISO 14229-2: S3 restarts when the final answer has gone out, so a long erase
        # answered with 0x78 does not end the session under the tester's feet.
        self.last_activity = self.now() + sum(r.delay_s for r in replies)
        return replies
