"""On-wire time of CAN frames, and a shared simulated wire that serialises them.

Classic CAN: SOF..IFS is 47 bit-times + 8 per data byte for an 11-bit ID (111 for 8 bytes),
67 + 8n for a 29-bit ID. Stuff bits are estimated as half the worst case (one per four bits
of the stuffable region), since real payloads are neither all-alternating nor all-constant.
CAN FD: arbitration (and ACK/EOF/IFS) at the nominal rate, control+data+CRC at the data rate.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class BusRateModel:
    bitrate: int = 500_000
    data_bitrate: int | None = None

    def frame_time(self, dlc_bytes: int, extended_id: bool, fd: bool = False,
                   brs: bool = False) -> float:
        if not fd:
            stuffable = (54 if extended_id else 34) + 8 * dlc_bytes
            bits = (67 if extended_id else 47) + 8 * dlc_bytes + (stuffable - 1) // 8
            return bits / self.bitrate
        nominal_bits = (48 if extended_id else 29) + 12  # arbitration + ACK/EOF/IFS
        crc = 21 if dlc_bytes > 16 else 17
        data_bits = 1 + 4 + 8 * dlc_bytes + crc + 5
        data_bits += (data_bits - 1) // 8
        data_rate = (self.data_bitrate or self.bitrate) if brs else self.bitrate
        return nominal_bits / self.bitrate + data_bits / data_rate


SLACK_S = 0.002


class SimulatedWire:
    """One physical bus: frames occupy it one after another, like arbitration on a real bus."""

    def __init__(self, model: BusRateModel | None) -> None:
        self.model = model
        self.bus_off = False
        self._lock = threading.Lock()
        self._free_at = 0.0

    def transmit(self, dlc_bytes: int, extended_id: bool, fd: bool, brs: bool) -> None:
        """Block the sender until its frame would have left the wire."""
        if self.model is None:
            return
        duration = self.model.frame_time(dlc_bytes, extended_id, fd, brs)
        with self._lock:
            start = max(time.perf_counter(), self._free_at)
            self._free_at = start + duration
            done = self._free_at
        remaining = done - time.perf_counter()
        # Sleeping per frame (a quarter of a millisecond at 500 kbit/s) costs more than the
        # frame itself in wake-ups; let senders run ahead of the wire by at most SLACK_S and
        # then wait, so the average rate is the model's and no frame is early by more.
        if remaining > SLACK_S:
            time.sleep(remaining)


_wires: dict[str, SimulatedWire] = {}
_wires_lock = threading.Lock()


def wire_for(channel: str, model: BusRateModel | None = None) -> SimulatedWire:
    """The wire shared by every simulated bus opened on `channel`."""
    with _wires_lock:
        wire = _wires.get(channel)
        if wire is None:
            wire = _wires[channel] = SimulatedWire(model)
        elif model is not None:
            wire.model = model
        return wire


def isotp_ceiling_bps(model: BusRateModel, *, fd: bool, extended_id: bool) -> float:
    """Payload bytes per second of back-to-back consecutive frames (STmin 0, no flow-control
    waits): the most any ISO-TP transfer can carry on this bus."""
    if fd:
        return 63 / model.frame_time(64, extended_id, fd=True, brs=model.data_bitrate is not None)
    return 7 / model.frame_time(8, extended_id)
