"""Seed/key plugins used by tests/uds/test_seedkey.py through `module:function` names."""

from __future__ import annotations

calls: list[tuple[bytes, int]] = []


def compute(seed: bytes, level: int) -> bytes:
    """The demo algorithm, written a third time: byte rotation, then the level's mask."""
    calls.append((seed, level))
    mask = [0x5A ^ level, 0xC3, 0x3C ^ level, 0xA5]
    return bytes(seed[(i + 1) % len(seed)] ^ mask[i % 4] for i in range(len(seed)))


def wrong(seed: bytes, level: int) -> bytes:
    return bytes(b ^ 0xFF for b in seed)
