"""Bus-rate model: each frame's bits as a CAN controller sends them, stuff bits counted.

The classic-frame lengths below were computed with the exact mode of can-utils'
canframelen.c (CFL_EXACT, Michal Sojka, CTU Prague), an independent implementation that
works on a byte bitmap; this module's own code works on bit strings.
"""

from __future__ import annotations

import threading

import can
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workshop.transport.busrate import BusRateModel, isotp_ceiling_bps, isotp_frames
from workshop.transport.canbits import CRC15_POLY, crc, crc15, frame_bits, stuff_positions
from workshop.transport.simbus import SimulatedWire


@pytest.mark.parametrize(("can_id", "extended", "data", "bits"), [
    (0x7E0, False, "0210020000000000", 124),  # 10 02 request: runs of zeros, 13 stuff bits
    (0x7E0, False, "00CA22FF5566AADF", 117),
    (0x000, False, "", 53),
    (0x7FF, False, "0000000000000000", 126),
    (0x18DA10F1, True, "0322F19000000000", 139),
])
def test_classic_frame_lengths_match_can_utils(can_id: int, extended: bool, data: str,
                                               bits: int) -> None:
    assert frame_bits(can_id, bytes.fromhex(data), extended_id=extended).total == bits


def test_id_0_without_data_by_hand() -> None:
    # SOF, ID, RTR, IDE, r0 and DLC are 19 dominant bits; their CRC-15 (initial value 0) is
    # 0, so 34 dominant bits: a stuff bit after each 5 -> 6; + 13 for delimiters, EOF, IFS.
    bits = frame_bits(0, b"", extended_id=False)
    assert (bits.stuff, bits.total) == (6, 34 + 6 + 13)


def test_fd_frame_by_hand() -> None:
    # Base FD frame, ID 0, no data, no BRS: SOF, 11 ID bits, RRS, IDE dominant (14 zeros:
    # stuff after 5 and 10), FDF recessive, res, BRS, ESI, DLC dominant (7 zeros: one stuff);
    # then stuff count 4 + CRC-17 with 6 fixed stuff bits; 13 trailing bits.
    bits = frame_bits(0, b"", extended_id=False, fd=True)
    assert bits.total == 22 + 3 + 4 + 17 + 6 + 13 and bits.data == 0
    switched = frame_bits(0, b"", extended_id=False, fd=True, brs=True)
    assert (switched.nominal, switched.data) == (17 + 2 + 13, 5 + 1 + 4 + 17 + 6)


def test_fd_crc21_has_seven_fixed_stuff_bits() -> None:
    # The same data without dynamic stuffing differs only by CRC length and fixed stuff bits.
    alternating = bytes([0x55]) * 20
    short = frame_bits(0x555, alternating[:16], extended_id=False, fd=True)
    long = frame_bits(0x555, alternating, extended_id=False, fd=True)
    assert long.total - short.total == 4 * 8 + (21 - 17) + (7 - 6)


def test_ack_eof_ifs_counted_once_in_fd() -> None:
    model = BusRateModel(500_000, 2_000_000)
    bits = frame_bits(0x7E0, bytes(64), extended_id=False, fd=True, brs=True)
    assert model.bits_time(bits) == pytest.approx(bits.nominal / 500_000 + bits.data / 2e6)
    assert bits.nominal < 17 + 5 + 13 + 1  # arbitration + its stuff bits + 13 trailing bits


@given(st.binary(min_size=1, max_size=8))
def test_crc15_matches_crccheck(data: bytes) -> None:
    crccheck = pytest.importorskip("crccheck.crc")
    bits = "".join(f"{b:08b}" for b in data)
    assert crc(bits, CRC15_POLY, 15) == crccheck.Crc15Can.calc(data)


def stuffed_bit_by_bit(bits: str) -> list[int]:
    """The stuffing rule applied one bit at a time, as a transmitter does."""
    found, level, run = [], "", 0
    for i, bit in enumerate(bits):
        run = run + 1 if bit == level else 1
        level = bit
        if run == 5:
            found.append(i)
            level, run = ("1" if bit == "0" else "0"), 1  # the stuff bit starts a run
    return found


@given(st.text(alphabet="01", max_size=300))
def test_stuff_positions_follow_the_rule_bit_by_bit(bits: str) -> None:
    assert stuff_positions(bits) == stuffed_bit_by_bit(bits)


def test_a_stuff_bit_counts_towards_the_next_run() -> None:
    # 00000 -> stuff 1; then 1111 with the stuff bit makes five ones -> stuff 0.
    assert stuff_positions("000001111") == [4, 8]


@given(st.binary(min_size=1, max_size=16))
def test_crc15_bytewise_equals_bitwise(data: bytes) -> None:
    bits = "".join(f"{b:08b}" for b in data)[3:]  # not a whole number of bytes
    assert crc15(bits) == crc(bits, CRC15_POLY, 15)


@given(st.integers(0, 0x7FF), st.binary(max_size=8))
def test_classic_stuffing_never_exceeds_the_worst_case(can_id: int, data: bytes) -> None:
    bits = frame_bits(can_id, data, extended_id=False)
    assert bits.stuff <= (34 + 8 * len(data) - 1) // 4
    assert bits.total >= 47 + 8 * len(data)


def test_typical_classic_frame_has_about_three_stuff_bits() -> None:
    bits = BusRateModel(500_000).frame_time(8, extended_id=False) * 500_000
    assert 111 + 2 < bits < 111 + 5  # random data: about 3, not the worst case's 24


def test_isotp_frames_follow_iso_15765_2() -> None:
    frames = isotp_frames(bytes(range(20)), fd=False)
    assert frames[0] == bytes([0x10, 20, 0, 1, 2, 3, 4, 5])
    assert frames[1] == bytes([0x21, *range(6, 13)])
    assert frames[2] == bytes([0x22, *range(13, 20)]) and len(frames) == 3
    fd = isotp_frames(bytes(100), fd=True)
    # The first frame carries 62 bytes; the last 38 and its PCI byte pad to 48, a valid length.
    assert len(fd[0]) == 64 and fd[1][0] == 0x21 and len(fd[1]) == 48 and len(fd) == 2


def test_ceiling_is_the_data_over_its_frames_time() -> None:
    model = BusRateModel(500_000)
    data = bytes(range(256)) * 16
    frames = isotp_frames(data, fd=False)
    seconds = sum(model.bits_time(frame_bits(0x7E0, f, extended_id=False)) for f in frames)
    seconds += model.bits_time(frame_bits(0x7E8, bytes([0x30, 0, 0, 0xCC, 0xCC, 0xCC, 0xCC,
                                                        0xCC]), extended_id=False))
    assert isotp_ceiling_bps(model, fd=False, extended_id=False, data=data) == pytest.approx(
        len(data) / seconds)
    stuffed = isotp_ceiling_bps(model, fd=False, extended_id=False, data=bytes(4096))
    assert stuffed < len(data) / seconds  # zeros stuff more than varied data


def test_fd_data_phase_runs_at_data_bitrate() -> None:
    model = BusRateModel(500_000, 2_000_000)
    with_brs = model.frame_time(64, False, fd=True, brs=True)
    without = model.frame_time(64, False, fd=True, brs=False)
    assert with_brs < without / 2


def test_queued_frames_leave_back_to_back() -> None:
    """Frames queued while the wire is busy start when the one before ends: no idle gap."""
    model = BusRateModel(500)  # about 0.25 s a frame: the three sends queue behind the first
    wire = SimulatedWire(model, tx_queue_s=10.0)  # a deep queue: the sender never waits
    delivered: list[bytes] = []
    done = threading.Event()

    def deliver(msg: can.Message) -> None:
        delivered.append(bytes(msg.data))
        if len(delivered) == 3:
            done.set()

    frames = [can.Message(arbitration_id=0x7E0, data=bytes([i] * 8), is_extended_id=False)
              for i in range(3)]
    ends = [wire.transmit(f, deliver) for f in frames]
    for before, after, frame in zip(ends, ends[1:], frames[1:], strict=False):
        assert after - before == pytest.approx(model.message_time(frame))
    assert done.wait(10)
    assert delivered == [bytes(f.data) for f in frames]


@given(st.integers(0, 0x7FF), st.binary(max_size=7))
def test_another_byte_makes_a_longer_frame(can_id: int, data: bytes) -> None:
    shorter = frame_bits(can_id, data, extended_id=False).total
    # Eight more bits outweigh the stuff bits a different CRC can save (at most 4 in 15).
    assert frame_bits(can_id, data + b"\x55", extended_id=False).total > shorter


def test_29bit_frame_is_longer_than_11bit() -> None:
    model = BusRateModel(500_000)
    assert model.frame_time(8, True) > model.frame_time(8, False)
