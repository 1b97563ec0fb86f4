"""The bits of one CAN frame on the wire, counted as a CAN controller sends them (ISO 11898-1).

Classic frames: SOF, arbitration, control and data, then the CRC-15 over them; stuff bits
(one of the opposite level after five equal bits) from SOF to the end of the CRC sequence;
then CRC delimiter, ACK slot and delimiter, 7 EOF bits and 3 of intermission.

CAN FD frames (ISO format): dynamic stuffing from SOF to the end of the data field, then the
stuff count (4 bits) and the CRC-17 (up to 16 data bytes) or CRC-21, with a fixed stuff bit
before the stuff count and after every fourth bit: 6 fixed stuff bits with CRC-17, 7 with
CRC-21. The fixed stuff bits do not depend on the bits' values, so neither the stuff count
nor the CRC value changes an FD frame's length and neither is computed here. With bit-rate
switching, SOF..BRS and CRC delimiter..IFS run at the nominal rate, ESI..CRC at the data rate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CRC15_POLY = 0x4599
# CRC delimiter, ACK slot, ACK delimiter, 7 bits end of frame, 3 bits intermission.
TRAILER_BITS = 1 + 1 + 1 + 7 + 3
FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)
FD_DLC = {n: i for i, n in enumerate(FD_LENGTHS)}


@dataclass(frozen=True)
class FrameBits:
    """Bit-times of one frame: `nominal` at the arbitration rate, `data` at the data rate
    (0 unless CAN FD with bit-rate switching), `stuff` of them are stuff bits."""

    nominal: int
    data: int
    stuff: int

    @property
    def total(self) -> int:
        return self.nominal + self.data


def crc(bits: str, poly: int, width: int, init: int = 0) -> int:
    """The CAN CRC of a bit string ('0'/'1'), shifted in MSB first as ISO 11898-1 says."""
    reg, top, mask = init, 1 << (width - 1), (1 << width) - 1
    for bit in bits:
        feedback = bool(reg & top) != (bit == "1")
        reg = (reg << 1) & mask
        if feedback:
            reg ^= poly
    return reg


def _crc15_table() -> list[int]:
    return [crc(format(byte, "08b"), CRC15_POLY, 15) for byte in range(256)]


_CRC15 = _crc15_table()


def crc15(bits: str) -> int:
    """`crc(bits, CRC15_POLY, 15)` a byte at a time: with the initial value 0, leading zero
    bits leave the register at 0, so the string is padded in front to whole bytes."""
    reg = 0
    for byte in int(bits, 2).to_bytes((len(bits) + 7) // 8, "big"):
        reg = ((reg << 8) & 0x7FFF) ^ _CRC15[((reg >> 7) ^ byte) & 0xFF]
    return reg


# Only a run of four or more equal bits can lead to a stuff bit: five equal bits, or four
# that follow a stuff bit of their level.
_RUNS = re.compile(r"0{4,}|1{4,}")


def stuff_positions(bits: str) -> list[int]:
    """Indexes of the bits after which a transmitter inserts a stuff bit (one of the
    opposite level after five equal bits, stuff bits included in the count)."""
    found: list[int] = []
    stuffed_at = -1  # index just past a run whose last bit was followed by a stuff bit
    for run in _RUNS.finditer(bits):
        start, end = run.span()
        # A stuff bit ending the run before has this run's level and counts as its first.
        at = start + (3 if start == stuffed_at else 4)
        while at < end:
            found.append(at)
            at += 5
        if found and found[-1] == end - 1:
            stuffed_at = end
    return found


def _bits(value: int, width: int) -> str:
    return format(value, f"0{width}b")


def _arbitration(arbitration_id: int, extended_id: bool, last: str) -> str:
    """SOF and the arbitration field; `last` is RTR (classic) or RRS (FD), dominant here."""
    if extended_id:
        return ("0" + _bits(arbitration_id >> 18, 11) + "11" +
                _bits(arbitration_id & 0x3FFFF, 18) + last)
    return "0" + _bits(arbitration_id, 11) + last


def frame_bits(arbitration_id: int, data: bytes, *, extended_id: bool, fd: bool = False,
               brs: bool = False) -> FrameBits:
    """Every bit-time of a data frame with this ID and data, stuff bits counted."""
    payload = _bits(int.from_bytes(data, "big"), 8 * len(data)) if data else ""
    if not fd:
        if len(data) > 8:
            raise ValueError("a classic CAN frame carries at most 8 bytes")
        control = "00" + _bits(len(data), 4)  # IDE and r0 (base) or r1 and r0 (extended)
        head = _arbitration(arbitration_id, extended_id, "0") + control + payload
        stuffed = head + _bits(crc15(head), 15)
        stuff = len(stuff_positions(stuffed))
        return FrameBits(len(stuffed) + stuff + TRAILER_BITS, 0, stuff)
    size = next((n for n in FD_LENGTHS if n >= len(data)), None)
    if size is None:
        raise ValueError("a CAN FD frame carries at most 64 bytes")
    payload = payload.ljust(8 * size, "0")  # a controller pads to the next valid length
    # IDE (base only), FDF recessive, res dominant, BRS; then ESI, DLC and the data.
    arbitration = (_arbitration(arbitration_id, extended_id, "0") +
                   ("" if extended_id else "0") + "10" + ("1" if brs else "0"))
    rest = "0" + _bits(FD_DLC[size], 4) + payload
    positions = stuff_positions(arbitration + rest)
    # A stuff bit after BRS is counted with the arbitration: the rate switches after BRS.
    stuff_arbitration = sum(1 for at in positions if at < len(arbitration))
    stuff_rest = len(positions) - stuff_arbitration
    crc_len = 21 if size > 16 else 17
    fixed = 1 + (4 + crc_len) // 4
    nominal = len(arbitration) + stuff_arbitration + TRAILER_BITS
    switched = len(rest) + stuff_rest + 4 + crc_len + fixed
    if brs:
        return FrameBits(nominal, switched, len(positions) + fixed)
    return FrameBits(nominal + switched, 0, len(positions) + fixed)
