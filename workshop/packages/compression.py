"""Compressed transfer for RequestDownload: independent LZ4 blocks, one per ECU buffer.

Why LZ4 blocks: a bootloader must decompress in place with a few KiB of RAM and a few hundred
bytes of code. The LZ4 block format needs no working memory beyond its output buffer, has a
decoder of about a hundred lines of C, decodes at near memcpy speed on a small MCU, and its
ratio on firmware is close to deflate's fast levels. Chunks are independent (no dictionary
carried across them) so the ECU can decode each into its sector buffer and write it, and a
transfer can restart at any chunk boundary.

Stream: a sequence of chunks, each `method (1) | raw length (2, BE) | data length (2, BE) |
data`; method 0 stores the chunk as is (incompressible data never grows by more than the
header), method 1 is one LZ4 block. The ISO 14229 memorySize of the 0x34 request is the
uncompressed size; the tester sends this stream.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import lz4.block

from workshop.packages.errors import PackageError

METHOD_STORED, METHOD_LZ4 = 0, 1
HEADER = struct.Struct(">BHH")
DEFAULT_CHUNK = 4096
MAX_CHUNK = 0xFFFF


class CompressionError(PackageError):
    """A compressed stream that cannot be decoded: corrupt, truncated or oversized."""


def compress(data: bytes, chunk_size: int = DEFAULT_CHUNK) -> bytes:
    if not 0 < chunk_size <= MAX_CHUNK:
        raise ValueError(f"chunk size must be 1..{MAX_CHUNK}")
    out = bytearray()
    for start in range(0, len(data), chunk_size):
        raw = data[start:start + chunk_size]
        packed = lz4.block.compress(raw, mode="high_compression", compression=9,
                                    store_size=False)
        if len(packed) < len(raw):
            out += HEADER.pack(METHOD_LZ4, len(raw), len(packed)) + packed
        else:
            out += HEADER.pack(METHOD_STORED, len(raw), len(raw)) + raw
    return bytes(out)


def chunks(stream: bytes, max_chunk: int = MAX_CHUNK) -> Iterator[bytes]:
    """Decode chunk by chunk, as a bootloader with a `max_chunk` buffer would."""
    pos = 0
    while pos < len(stream):
        if pos + HEADER.size > len(stream):
            raise CompressionError(f"compressed stream truncated in a chunk header at {pos}")
        method, raw_len, data_len = HEADER.unpack_from(stream, pos)
        pos += HEADER.size
        if raw_len == 0 or raw_len > max_chunk:
            raise CompressionError(f"chunk at {pos - HEADER.size} declares {raw_len} bytes, "
                                   f"outside 1..{max_chunk}")
        data = stream[pos:pos + data_len]
        if len(data) != data_len:
            raise CompressionError(f"compressed stream truncated in the chunk at {pos}")
        pos += data_len
        if method == METHOD_STORED and data_len == raw_len:
            yield data
        elif method == METHOD_LZ4:
            try:
                raw = lz4.block.decompress(data, uncompressed_size=raw_len)
            except lz4.block.LZ4BlockError as exc:
                raise CompressionError(f"corrupt LZ4 block at {pos - data_len}: {exc}") from exc
            if len(raw) != raw_len:
                raise CompressionError(f"LZ4 block at {pos - data_len} decodes to {len(raw)} "
                                       f"bytes, {raw_len} declared")
            yield raw
        else:
            raise CompressionError(f"unknown chunk method {method} at {pos - data_len}")


def decompress(stream: bytes, expected_size: int, max_chunk: int = MAX_CHUNK) -> bytes:
    out = bytearray()
    for raw in chunks(stream, max_chunk):
        out += raw
        if len(out) > expected_size:
            raise CompressionError(f"compressed stream decodes to more than the "
                                   f"{expected_size} bytes requested")
    if len(out) != expected_size:
        raise CompressionError(f"compressed stream decodes to {len(out)} bytes, "
                               f"{expected_size} requested")
    return bytes(out)
