"""Routine control (0x31): 0x0202 quick check, 0x0203 self-test (answers 0x78 first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workshop.simulator.protocol import NON_DEFAULT, Nrc, Reply, ServiceSpec, pending_then

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

ROUTINE_QUICK_CHECK, ROUTINE_SELF_TEST = 0x0202, 0x0203


def routine_control(ecu: UdsServer, req: bytes) -> list[Reply] | bytes:
    if len(req) < 4:
        raise Nrc(0x13)
    kind, rid = req[1], int.from_bytes(req[2:4], "big")
    if kind not in (1, 2, 3):
        raise Nrc(0x12)
    if kind == 1 and rid in ecu.routine_answers:
        return ecu.routine_answers[rid]
    if rid not in (ROUTINE_QUICK_CHECK, ROUTINE_SELF_TEST):
        raise Nrc(0x31)
    head = bytes([0x71, kind]) + req[2:4]
    if kind == 1:
        ecu.routines_started.add(rid)
        if rid == ROUTINE_SELF_TEST:
            return pending_then(ecu.self_test_duration_s, 0x31, head + b"\x00")
        return head + b"\x00"
    if rid not in ecu.routines_started:
        raise Nrc(0x24)
    if kind == 2:
        ecu.routines_started.discard(rid)
    return head + b"\x00"


SERVICES = {
    0x31: ServiceSpec(routine_control, NON_DEFAULT, 4, True),
}
