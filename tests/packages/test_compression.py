"""The compressed transfer format: exact round trip on real firmware, strict decoding."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import bincopy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workshop.packages.compression import (
    HEADER,
    METHOD_STORED,
    CompressionError,
    chunks,
    compress,
    decompress,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def firmware() -> bytes:
    image = bincopy.BinFile(str(DATA / "microbit-micropython_v1.0.1_2018-12-13.hex"))
    return bytes(image.as_binary())


def test_real_firmware_round_trips_and_shrinks(firmware: bytes) -> None:
    packed = compress(firmware)
    assert decompress(packed, len(firmware)) == firmware
    # MicroPython for the nRF51 compresses to well under 2/3 with LZ4-HC.
    assert len(packed) < 0.67 * len(firmware)


def test_every_chunk_fits_the_ecu_buffer(firmware: bytes) -> None:
    packed = compress(firmware, chunk_size=1024)
    sizes = [len(c) for c in chunks(packed, max_chunk=1024)]
    assert sum(sizes) == len(firmware)
    assert max(sizes) == 1024
    with pytest.raises(CompressionError, match=r"outside 1\.\.512"):
        list(chunks(packed, max_chunk=512))


def test_incompressible_data_is_stored_and_grows_only_by_headers() -> None:
    data = os.urandom(10_000)
    packed = compress(data, chunk_size=4096)
    assert packed[0] == METHOD_STORED
    assert len(packed) == len(data) + 3 * HEADER.size
    assert decompress(packed, len(data)) == data


@pytest.mark.parametrize("cut", [1, 3, 100])
def test_truncated_stream_is_refused(firmware: bytes, cut: int) -> None:
    packed = compress(firmware[:20_000])
    with pytest.raises(CompressionError, match=r"truncated|decodes to"):
        decompress(packed[:-cut], 20_000)


def test_corrupt_block_never_passes_as_the_image(firmware: bytes) -> None:
    """LZ4 blocks carry no checksum: a flipped byte is refused or decodes to other bytes,
    which the ECU's check-memory routine then rejects. Never silently the same image."""
    original = firmware[:4096]
    packed = compress(original)
    for pos in range(HEADER.size, len(packed), 7):
        corrupt = bytearray(packed)
        corrupt[pos] ^= 0x55
        with contextlib.suppress(CompressionError):
            assert decompress(bytes(corrupt), 4096) != original


def test_size_mismatch_is_refused(firmware: bytes) -> None:
    packed = compress(firmware[:5000])
    with pytest.raises(CompressionError, match="more than the 4999 bytes"):
        decompress(packed, 4999)
    with pytest.raises(CompressionError, match="5000 bytes, 5001 requested"):
        decompress(packed, 5001)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=700))
def test_round_trip_any_data(data: bytes, chunk: int) -> None:
    assert decompress(compress(data, chunk), len(data)) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_never_crashes_the_decoder(stream: bytes) -> None:
    with contextlib.suppress(CompressionError):
        decompress(stream, 1000)
