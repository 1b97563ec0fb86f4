"""The checksums a bootloader's check-memory routine may expect, by the names profiles use.

CRC-32 is zlib's (ISO-HDLC, the one VAG-style routines take). CRC-16/X.25 (the CCITT CRC
of PSA-style routines) is the stdlib's C CRC-CCITT (binascii.crc_hqx, the unreflected form)
run over bit-reversed bytes: the `crc` package gives the same values but in pure Python,
about 2 s for 256 KiB; the simulated bootloaders use that package, so each side checks the
other. Plain sums are the byte sum truncated to the field's width.
"""

from __future__ import annotations

import binascii
import hashlib
import zlib

_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def crc16_x25(data: bytes) -> bytes:
    """CRC-16/X.25: poly 0x1021 reflected, init and final XOR 0xFFFF (check 0x906E)."""
    unreflected = binascii.crc_hqx(data.translate(_REVERSED), 0xFFFF)
    return (int(f"{unreflected:016b}"[::-1], 2) ^ 0xFFFF).to_bytes(2, "big")


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def byte_sum(data: bytes, width: int) -> bytes:
    return (sum(data) & ((1 << 8 * width) - 1)).to_bytes(width, "big")


DIGESTS = {
    "crc32": crc32,
    "crc16_x25": crc16_x25,
    "sum8": lambda d: byte_sum(d, 1),
    "sum16": lambda d: byte_sum(d, 2),
    "sum32": lambda d: byte_sum(d, 4),
    "sha256": lambda d: hashlib.sha256(d).digest(),
}
