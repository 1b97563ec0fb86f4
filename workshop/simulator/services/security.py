"""Security access (0x27): levels 1 and 3, three attempts, then a required time delay."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from workshop.simulator import seedkey
from workshop.simulator.protocol import NON_DEFAULT, Nrc, ServiceSpec

if TYPE_CHECKING:
    from workshop.simulator.server import UdsServer

MAX_ATTEMPTS = 3
SECURITY_DELAY_S = 10.0


def security_access(ecu: UdsServer, req: bytes) -> bytes:
    level = req[1]
    conv = ecu.convention
    seeds = {0x01, 0x03, conv.security_level, *conv.other_levels}
    if level not in seeds and level - 1 not in seeds:
        raise Nrc(0x12)
    if level % 2:  # requestSeed
        if len(req) != 2:
            raise Nrc(0x13)
        if ecu.now() < max(ecu.lockout_until, ecu.booted_at + conv.power_on_delay_s):
            raise Nrc(0x37)
        if ecu.unlocked == level:
            return bytes([0x67, level, 0, 0, 0, 0])
        seed = os.urandom(4)
        ecu.seeds = {level: seed}
        return bytes([0x67, level]) + seed
    seed_level = level - 1
    if seed_level not in ecu.seeds:
        raise Nrc(0x24)
    seed = ecu.seeds.pop(seed_level)
    expected = seedkey.expected_key(ecu.ecu, seed, seed_level)
    if req[2:] != expected:
        ecu.attempts += 1
        if ecu.attempts >= MAX_ATTEMPTS:
            ecu.attempts = 0
            ecu.lockout_until = ecu.now() + SECURITY_DELAY_S
            raise Nrc(0x36)
        raise Nrc(0x35)
    ecu.attempts = 0
    ecu.unlocked = seed_level
    return bytes([0x67, level])


SERVICES = {
    0x27: ServiceSpec(security_access, NON_DEFAULT, 2, False),
}
