"""The simulated ECUs' own seed/key algorithms.

Written independently of the tester's plugins (workshop.uds.seedkey) and never importing
them: a simulated ECU checks a key the way a real ECU does, so a bug in a tester algorithm
shows up as NRC 0x35 invalidKey instead of agreeing with itself.
"""

from __future__ import annotations

from collections.abc import Callable

from workshop.vehicles import EcuDefinition


def _demo_xor(seed: bytes, level: int) -> bytes:
    """Rotate the 4-byte seed left by 8 bits, XOR with a level-dependent 32-bit mask."""
    value = int.from_bytes(seed, "big")
    rotated = ((value << 8) | (value >> 24)) & 0xFFFFFFFF
    mask = (0x5A ^ level) << 24 | 0xC3 << 16 | (0x3C ^ level) << 8 | 0xA5
    return (rotated ^ mask).to_bytes(4, "big")


ALGORITHMS: dict[str, Callable[[bytes, int], bytes]] = {"demo-xor": _demo_xor}


def expected_key(ecu: EcuDefinition, seed: bytes, level: int) -> bytes | None:
    """The key the simulated ECU accepts for `seed`; None (no key is accepted) when its
    definition names no algorithm the simulator implements."""
    algo = ALGORITHMS.get(ecu.sim_seed_key or ecu.seed_key or "")
    return None if algo is None else algo(seed, level)
