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

from dataclasses import dataclass
from itertools import groupby

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


class Stuffer:
    """Counts the stuff bits a transmitter inserts into a bit stream fed in pieces."""

    def __init__(self) -> None:
        self.count = 0
        self._level = ""  # level of the last bit on the wire, stuff bits included
        self._run = 0  # how many equal bits end the wire's stream

    def feed(self, bits: str) -> int:
        """Stuff bits inserted into `bits`; the run carries over from earlier pieces."""
        added = 0
        for level, group in groupby(bits):
            n = sum(1 for _ in group)
            before = self._run if level == self._level else 0
            to_first = 5 - before
            if n < to_first:
                self._level, self._run = level, before + n
                continue
            stuffed = 1 + (n - to_first) // 5
            rest = (n - to_first) % 5
            added += stuffed
            # The last stuff bit has the opposite level; bits after it start a new run.
            self._level, self._run = (level, rest) if rest else (
                "1" if level == "0" else "0", 1)
        self.count += added
        return added


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
        stuffed = head + _bits(crc(head, CRC15_POLY, 15), 15)
        stuff = Stuffer().feed(stuffed)
        return FrameBits(len(stuffed) + stuff + TRAILER_BITS, 0, stuff)
    size = next((n for n in FD_LENGTHS if n >= len(data)), None)
    if size is None:
        raise ValueError("a CAN FD frame carries at most 64 bytes")
    payload = payload.ljust(8 * size, "0")  # a controller pads to the next valid length
    # IDE (base only), FDF recessive, res dominant, BRS; then ESI, DLC and the data.
    arbitration = (_arbitration(arbitration_id, extended_id, "0") +
                   ("" if extended_id else "0") + "10" + ("1" if brs else "0"))
    rest = "0" + _bits(FD_DLC[size], 4) + payload
    stuffer = Stuffer()
    stuff_arbitration, stuff_rest = stuffer.feed(arbitration), stuffer.feed(rest)
    crc_len = 21 if size > 16 else 17
    fixed = 1 + (4 + crc_len) // 4
    nominal = len(arbitration) + stuff_arbitration + TRAILER_BITS
    switched = len(rest) + stuff_rest + 4 + crc_len + fixed
    if brs:
        return FrameBits(nominal, switched, stuffer.count + fixed)
    return FrameBits(nominal + switched, 0, stuffer.count + fixed)
