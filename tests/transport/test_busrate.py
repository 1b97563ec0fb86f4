"""Bus-rate model: frame times follow the CAN frame formats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workshop.transport.busrate import BusRateModel


def test_classic_11bit_8_bytes_is_111_bits_plus_stuffing() -> None:
    model = BusRateModel(500_000)
    bits = model.frame_time(8, extended_id=False) * 500_000
    assert 111 <= bits <= 111 + (34 + 64) // 4  # never more than worst-case stuffing


def test_29bit_frame_is_longer_than_11bit() -> None:
    model = BusRateModel(500_000)
    assert model.frame_time(8, True) > model.frame_time(8, False)


def test_fd_data_phase_runs_at_data_bitrate() -> None:
    model = BusRateModel(500_000, 2_000_000)
    with_brs = model.frame_time(64, False, fd=True, brs=True)
    without = model.frame_time(64, False, fd=True, brs=False)
    assert with_brs < without / 2


@given(st.integers(0, 7), st.booleans())
def test_frame_time_grows_with_payload(n: int, ext: bool) -> None:
    model = BusRateModel(250_000)
    assert model.frame_time(n + 1, ext) > model.frame_time(n, ext)


@pytest.mark.parametrize("rate", [125_000, 250_000, 500_000, 1_000_000])
def test_classic_ceiling_matches_isotp_throughput(rate: int) -> None:
    # 7 payload bytes per consecutive frame: ISO-TP ceiling is 7 / frame_time bytes/s.
    ceiling = 7 / BusRateModel(rate).frame_time(8, False)
    assert ceiling < 7 / (111 / rate) + 1e-9
