"""The checksums a bootloader's check-memory routine may expect, by the names profiles use.

CRC-32 is zlib's (ISO-HDLC, the one VAG-style routines take); CRC-16/X.25 (the CCITT CRC
of PSA-style routines) comes from the `crc` package's catalogue rather than a table written
here; plain sums are the byte sum truncated to the field's width.
"""

from __future__ import annotations

import hashlib
import zlib

from crc import Calculator, Crc16

_X25 = Calculator(Crc16.X25.value, optimized=True)


def crc16_x25(data: bytes) -> bytes:
    return int(_X25.checksum(data)).to_bytes(2, "big")


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
