"""ISO 14229-1 server logic of one simulated ECU, independent of the transport.

`handle()` takes a request and returns the replies to send, each with its delay, so that
response-pending (0x78) and slow answers are data, not threads.
"""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

from workshop.simulator import seedkey
from workshop.simulator.dtc_memory import DtcMemory
from workshop.vehicles import EcuDefinition

DEFAULT, PROGRAMMING, EXTENDED = 1, 2, 3
MAX_ATTEMPTS = 3
SECURITY_DELAY_S = 10.0
WRITABLE_DIDS = {0xF198: 6, 0xF199: 3}  # repair shop code, programming date (BCD)
ROUTINE_QUICK_CHECK, ROUTINE_SELF_TEST = 0x0202, 0x0203
MAX_RESPONSE = 4095
SPRMIB = 0x80
# NRCs an ECU must not send in answer to a functional request (ISO 14229-1, 7.5).
SUPPRESSED_FUNCTIONAL_NRCS = {0x11, 0x12, 0x31, 0x7E, 0x7F}


class Nrc(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"NRC 0x{code:02X}")
        self.code = code


@dataclass
class Reply:
    delay_s: float
    data: bytes


@dataclass
class ServiceSpec:
    handler: Callable[[UdsServer, bytes], list[Reply] | bytes | None]
    sessions: frozenset[int]
    min_length: int
    has_subfunction: bool


class UdsServer:
    def __init__(self, ecu: EcuDefinition, dtcs: DtcMemory, now: Callable[[], float],
                 on_dtc_change: Callable[[], None] = lambda: None) -> None:
        self.ecu = ecu
        self.dtcs = dtcs
        self.now = now
        self.on_dtc_change = on_dtc_change
        self.dids: dict[int, bytes] = dict(ecu.identification)
        self.rng = random.Random(ecu.name)
        self.clear_duration_s = 2.5 * ecu.p2_ms / 1000
        self.reboot()
        self.lockout_until = 0.0

    def reboot(self) -> None:
        self.session = DEFAULT
        self.unlocked = 0
        self.seeds: dict[int, bytes] = {}
        self.attempts = 0
        self.comm_control = 0
        self.dtc_setting_on = True
        self.routines_started: set[int] = set()
        self.last_activity = self.now()

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
        spec = SERVICES.get(sid)
        try:
            if injected_nrc is not None:
                raise Nrc(injected_nrc)
            if spec is None:
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
        if suppress:
            replies = [r for r in replies if r.data[0] == 0x7F]
        for r in replies:
            if len(r.data) > MAX_RESPONSE:
                r.data = bytes([0x7F, sid, 0x14])
        return replies

    def pending_then(self, duration_s: float, sid: int, final: bytes) -> list[Reply]:
        """A long operation: 0x78 at once, then the answer when the work is done."""
        return [Reply(0.0, bytes([0x7F, sid, 0x78])), Reply(duration_s, final)]

    # -- services ---------------------------------------------------------------------------

    def session_control(self, req: bytes) -> bytes:
        if len(req) != 2:
            raise Nrc(0x13)
        target = req[1]
        if target not in (DEFAULT, PROGRAMMING, EXTENDED):
            raise Nrc(0x12)
        if target == PROGRAMMING and self.session == DEFAULT:
            raise Nrc(0x22)
        self.session = target
        self.unlocked = 0
        self.seeds.clear()
        return bytes([0x50, target]) + struct.pack(">HH", self.ecu.p2_ms,
                                                   self.ecu.p2_star_ms // 10)

    def ecu_reset(self, req: bytes) -> list[Reply]:
        if len(req) != 2:
            raise Nrc(0x13)
        if req[1] not in (0x01, 0x03):
            raise Nrc(0x12)
        self.reboot()
        return [Reply(0.0, bytes([0x51, req[1]]))]

    def clear_dtcs(self, req: bytes) -> list[Reply]:
        if len(req) != 4:
            raise Nrc(0x13)
        group = int.from_bytes(req[1:4], "big")
        if not self.dtcs.clear(group):
            raise Nrc(0x31)
        self.on_dtc_change()
        return self.pending_then(self.clear_duration_s, 0x14, b"\x54")

    def read_dtc_info(self, req: bytes) -> bytes:
        sub = req[1]
        avail = 0xFF
        if sub in (0x01, 0x02):
            if len(req) != 3:
                raise Nrc(0x13)
            matches = self.dtcs.by_mask(req[2])
            if sub == 0x01:
                return bytes([0x59, 0x01, avail, 0x01]) + struct.pack(">H", len(matches))
            return bytes([0x59, 0x02, avail]) + _dtc_list(matches)
        if sub == 0x0A:
            if len(req) != 2:
                raise Nrc(0x13)
            return bytes([0x59, 0x0A, avail]) + _dtc_list(self.dtcs.supported())
        if sub in (0x04, 0x06):
            return self._dtc_records(req)
        raise Nrc(0x12)

    def _dtc_records(self, req: bytes) -> bytes:
        if len(req) != 6:
            raise Nrc(0x13)
        dtc, rec = int.from_bytes(req[2:5], "big"), req[5]
        if dtc not in self.dtcs.status:
            raise Nrc(0x31)
        out = bytearray([0x59, req[1]]) + dtc.to_bytes(3, "big") + bytes([self.dtcs.status[dtc]])
        if req[1] == 0x04:
            snaps = self.dtcs.snapshot_records(dtc)
            wanted = sorted(snaps) if rec == 0xFF else [rec]
            if rec != 0xFF and rec not in self.dtcs.defs[dtc].snapshots:
                raise Nrc(0x31)
            for number in wanted:
                dids = snaps.get(number, {})
                if not dids:
                    continue
                out += bytes([number, len(dids)])
                for did, data in dids.items():
                    out += struct.pack(">H", did) + data
        else:
            ext = self.dtcs.extended_records(dtc)
            wanted = sorted(ext) if rec in (0xFE, 0xFF) else [rec]
            if rec not in (0xFE, 0xFF) and rec not in self.dtcs.defs[dtc].extended:
                raise Nrc(0x31)
            for number in wanted:
                if number in ext:
                    out += bytes([number]) + ext[number]
        return bytes(out)

    def read_data(self, req: bytes) -> bytes:
        if len(req) % 2 != 1:
            raise Nrc(0x13)
        dids = [int.from_bytes(req[i:i + 2], "big") for i in range(1, len(req), 2)]
        out = bytearray([0x62])
        for did in dids:
            if did in self.dids:
                out += struct.pack(">H", did) + self.dids[did]
        if len(out) == 1:
            raise Nrc(0x31)
        return bytes(out)

    def write_data(self, req: bytes) -> bytes:
        did = int.from_bytes(req[1:3], "big")
        if did not in WRITABLE_DIDS:
            raise Nrc(0x31)
        if len(req) != 3 + WRITABLE_DIDS[did]:
            raise Nrc(0x13)
        if not self.unlocked:
            raise Nrc(0x33)
        self.dids[did] = bytes(req[3:])
        return b"\x6e" + req[1:3]

    def security_access(self, req: bytes) -> bytes:
        level = req[1]
        if level not in (0x01, 0x02, 0x03, 0x04):
            raise Nrc(0x12)
        if level % 2:  # requestSeed
            if len(req) != 2:
                raise Nrc(0x13)
            if self.now() < self.lockout_until:
                raise Nrc(0x37)
            if self.unlocked == level:
                return bytes([0x67, level, 0, 0, 0, 0])
            seed = os.urandom(4)
            self.seeds = {level: seed}
            return bytes([0x67, level]) + seed
        seed_level = level - 1
        if seed_level not in self.seeds:
            raise Nrc(0x24)
        seed = self.seeds.pop(seed_level)
        expected = seedkey.expected_key(self.ecu, seed, seed_level)
        if req[2:] != expected:
            self.attempts += 1
            if self.attempts >= MAX_ATTEMPTS:
                self.attempts = 0
                self.lockout_until = self.now() + SECURITY_DELAY_S
                raise Nrc(0x36)
            raise Nrc(0x35)
        self.attempts = 0
        self.unlocked = seed_level
        return bytes([0x67, level])

    def communication_control(self, req: bytes) -> bytes:
        if len(req) != 3:
            raise Nrc(0x13)
        if req[1] > 0x03:
            raise Nrc(0x12)
        if req[2] & 0x0F not in (1, 2, 3):
            raise Nrc(0x31)
        self.comm_control = req[1]
        return bytes([0x68, req[1]])

    def routine_control(self, req: bytes) -> list[Reply] | bytes:
        if len(req) < 4:
            raise Nrc(0x13)
        kind, rid = req[1], int.from_bytes(req[2:4], "big")
        if kind not in (1, 2, 3):
            raise Nrc(0x12)
        if rid not in (ROUTINE_QUICK_CHECK, ROUTINE_SELF_TEST):
            raise Nrc(0x31)
        head = bytes([0x71, kind]) + req[2:4]
        if kind == 1:
            self.routines_started.add(rid)
            if rid == ROUTINE_SELF_TEST:
                return self.pending_then(3 * self.ecu.p2_ms / 1000, 0x31, head + b"\x00")
            return head + b"\x00"
        if rid not in self.routines_started:
            raise Nrc(0x24)
        if kind == 2:
            self.routines_started.discard(rid)
        return head + b"\x00"

    def tester_present(self, req: bytes) -> bytes:
        if len(req) != 2:
            raise Nrc(0x13)
        if req[1] != 0x00:
            raise Nrc(0x12)
        return b"\x7e\x00"

    def control_dtc_setting(self, req: bytes) -> bytes:
        if req[1] not in (0x01, 0x02):
            raise Nrc(0x12)
        self.dtc_setting_on = req[1] == 0x01
        return bytes([0xC5, req[1]])


def _dtc_list(items: list[tuple[int, int]]) -> bytes:
    return b"".join(dtc.to_bytes(3, "big") + bytes([st]) for dtc, st in items)


ALL = frozenset({DEFAULT, PROGRAMMING, EXTENDED})
NON_DEFAULT = frozenset({PROGRAMMING, EXTENDED})
SERVICES: dict[int, ServiceSpec] = {
    0x10: ServiceSpec(UdsServer.session_control, ALL, 2, True),
    0x11: ServiceSpec(UdsServer.ecu_reset, ALL, 2, True),
    0x14: ServiceSpec(UdsServer.clear_dtcs, frozenset({DEFAULT, EXTENDED}), 4, False),
    0x19: ServiceSpec(UdsServer.read_dtc_info, frozenset({DEFAULT, EXTENDED}), 2, False),
    0x22: ServiceSpec(UdsServer.read_data, ALL, 3, False),
    0x27: ServiceSpec(UdsServer.security_access, NON_DEFAULT, 2, False),
    0x28: ServiceSpec(UdsServer.communication_control, frozenset({EXTENDED}), 3, True),
    0x2E: ServiceSpec(UdsServer.write_data, NON_DEFAULT, 4, False),
    0x31: ServiceSpec(UdsServer.routine_control, NON_DEFAULT, 4, True),
    0x3E: ServiceSpec(UdsServer.tester_present, ALL, 2, True),
    0x85: ServiceSpec(UdsServer.control_dtc_setting, frozenset({EXTENDED}), 2, True),
}
