"""On-wire time of CAN frames and the ISO-TP ceiling of a bus, from each frame's real bits.

A frame's time is its bit count (stuff bits counted from its bits, `canbits`) over the bit
rate; CAN FD with bit-rate switching sends ESI..CRC at the data rate. When the data is not
known (estimates before a flash), the stuff bits are those of typical data: the mean over a
fixed set of random frames, about 3 per classic 8-byte frame rather than the worst case.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from functools import lru_cache

import can

from workshop.transport.canbits import FD_LENGTHS, FrameBits, frame_bits

ISOTP_PADDING = 0xCC
TYPICAL_SAMPLES = 64


@lru_cache(maxsize=256)
def _typical_bits(dlc_bytes: int, extended_id: bool, fd: bool, brs: bool) -> tuple[float, float]:
    rng = random.Random(f"{dlc_bytes}-{extended_id}-{fd}-{brs}")
    frames = [frame_bits(rng.getrandbits(29 if extended_id else 11), rng.randbytes(dlc_bytes),
                         extended_id=extended_id, fd=fd, brs=brs)
              for _ in range(TYPICAL_SAMPLES)]
    return (statistics.fmean(f.nominal for f in frames),
            statistics.fmean(f.data for f in frames))


# A scan or a flash sends the same frames again and again (requests, flow control,
# padding): counting their stuff bits once each saves a tenth of a busy simulator's time.
@lru_cache(maxsize=4096)
def _frame_bits(arbitration_id: int, data: bytes, extended_id: bool, fd: bool, brs: bool
                ) -> FrameBits:
    return frame_bits(arbitration_id, data, extended_id=extended_id, fd=fd, brs=brs)


@dataclass(frozen=True)
class BusRateModel:
    bitrate: int = 500_000
    data_bitrate: int | None = None

    def bits_time(self, bits: FrameBits) -> float:
        return bits.nominal / self.bitrate + bits.data / (self.data_bitrate or self.bitrate)

    def message_time(self, msg: can.Message) -> float:
        """On-wire time of this very frame (SOF to the end of intermission)."""
        return self.bits_time(_frame_bits(msg.arbitration_id, bytes(msg.data),
                                          msg.is_extended_id, msg.is_fd,
                                          msg.is_fd and msg.bitrate_switch))

    def frame_time(self, dlc_bytes: int, extended_id: bool, fd: bool = False,
                   brs: bool = False) -> float:
        """On-wire time of a frame of this size with typical (random) ID and data."""
        nominal, data = _typical_bits(dlc_bytes, extended_id, fd, brs)
        return nominal / self.bitrate + data / (self.data_bitrate or self.bitrate)


def isotp_frames(payload: bytes, *, fd: bool, padding: int | None = ISOTP_PADDING
                 ) -> list[bytes]:
    """The frame data ISO 15765-2 sends for `payload` (single frame, or first frame and
    consecutive frames), padded as the links here pad them."""
    size = 64 if fd else 8

    def pad(frame: bytes) -> bytes:
        if padding is None:
            return frame
        if not fd:
            return frame.ljust(8, bytes([padding]))
        want = next(n for n in FD_LENGTHS if n >= max(len(frame), 8))
        return frame.ljust(want, bytes([padding]))

    n = len(payload)
    if n <= 7:
        return [pad(bytes([n]) + payload)]
    if fd and n <= size - 2:
        return [pad(bytes([0, n]) + payload)]
    # Lengths past 4095 take the escape sequence (ISO 15765-2:2016).
    first = (bytes([0x10 | n >> 8, n & 0xFF]) if n <= 4095
             else bytes([0x10, 0]) + n.to_bytes(4, "big"))
    take = size - len(first)
    frames, rest, seq = [first + payload[:take]], payload[take:], 1
    while rest:
        frames.append(pad(bytes([0x20 | seq]) + rest[:size - 1]))
        rest, seq = rest[size - 1:], (seq + 1) & 0xF
    return frames


def isotp_ceiling_bps(model: BusRateModel, *, fd: bool, extended_id: bool,
                      data: bytes | None = None, tx_id: int | None = None,
                      rx_id: int | None = None) -> float:
    """Payload bytes per second of one ISO-TP message carrying `data` (default: 4095 random
    bytes) when its frames follow each other with no gap (STmin 0, block size 0: one flow
    control frame): the most any ISO-TP transfer of that data can reach on this bus.

    `tx_id`/`rx_id` are the sender's and the flow control's CAN IDs (their bits are stuffed
    too); by default a tester's physical request and response IDs."""
    if data is None:
        data = random.Random("isotp-ceiling").randbytes(4095)
    if tx_id is None:
        tx_id = 0x18DA00F1 if extended_id else 0x7E0
    if rx_id is None:
        rx_id = 0x18DAF100 if extended_id else 0x7E8
    brs = fd and model.data_bitrate is not None

    def wire(arbitration_id: int, frame: bytes) -> float:
        return model.bits_time(frame_bits(arbitration_id, frame, extended_id=extended_id,
                                          fd=fd, brs=brs))

    frames = isotp_frames(data, fd=fd)
    seconds = sum(wire(tx_id, f) for f in frames)
    if len(frames) > 1:  # the receiver's flow control after the first frame
        seconds += wire(rx_id, bytes([0x30, 0, 0]).ljust(8, bytes([ISOTP_PADDING])))
    return len(data) / seconds
