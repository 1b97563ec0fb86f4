"""Fault injection for one simulated ECU: the documented API tests and demos drive."""

from __future__ import annotations

import threading
import time
from typing import Any


class FaultPlan:
    """Faults to inject into one ECU. All methods are thread-safe and take effect at once.

    - drop_frame(n) / corrupt_frame(n): the ECU's n-th transmitted CAN frame from now on
      (1 = the next one) is not sent / has its last data byte inverted.
    - stop_answering() / resume(): the ECU stays silent (still powered).
    - answer_with_nrc(sid, nrc, times=None): the service is refused with that NRC.
    - respond_slowly(extra_ms): add latency to every answer (past P2 the ECU sends 0x78).
    - lose_power(off_s): silent for `off_s`, then reboots into its last valid state;
      `powered` is set again when it has rebooted.
    - slow_operation(sid, duration_s): the work behind the 0x78 of service `sid` (clear
      DTCs, the self-test routine) takes `duration_s`.
    - pending_interval(every_s): how often the ECU repeats 0x78 while it works (default
      half its P2*); None sends only the first one, as an ECU that lets P2* run out.
    - advance_clock(s): the ECU's own clock jumps ahead (its S3 and security-delay timers
      expire) without anyone waiting for it.
    - lose_power_after_bytes(n, off_s): the power goes off when n more TransferData bytes
      have arrived (the bytes before that point are written), for `off_s`.
    - fail_next_boot(): the next image the bootloader activates does not start (the ECU
      comes up in its bootloader); once.
    - set_conditions(battery_mv=, speed_kmh=, ignition=): what the programming-
      preconditions routine measures.
    - late_nrc(sid, nrc): the next `sid` request (functional ones included, suppress bit
      or not) is refused with `nrc`, but late: the refusal goes out only when the next
      physical request has arrived, just before that request's own answer; once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tx_count = 0
        self._drop: set[int] = set()
        self._corrupt: set[int] = set()
        self.silent = False
        self.extra_latency_ms = 0.0
        self._nrcs: dict[int, tuple[int, int | None]] = {}
        self.power_back_at: float | None = None
        self.powered = threading.Event()
        self.powered.set()
        self._durations: dict[int, float] = {}
        self.pending_every: tuple[float | None] | None = None  # None: the ECU's default
        self.clock_offset_s = 0.0
        self._cut_after: tuple[int, float] | None = None
        self._boot_failure = False
        self._conditions = (12600, 0, True)
        self._late: tuple[int, int] | None = None

    def drop_frame(self, n: int = 1) -> None:
        with self._lock:
            self._drop.add(self._tx_count + n)

    def corrupt_frame(self, n: int = 1) -> None:
        with self._lock:
            self._corrupt.add(self._tx_count + n)

    def stop_answering(self) -> None:
        self.silent = True

    def resume(self) -> None:
        self.silent = False

    def answer_with_nrc(self, sid: int, nrc: int, times: int | None = None) -> None:
        with self._lock:
            self._nrcs[sid] = (nrc, times)

    def respond_slowly(self, extra_ms: float) -> None:
        self.extra_latency_ms = extra_ms

    def lose_power(self, off_s: float) -> None:
        self.powered.clear()
        self.power_back_at = time.monotonic() + off_s

    def slow_operation(self, sid: int, duration_s: float) -> None:
        with self._lock:
            self._durations[sid] = duration_s

    def pending_interval(self, every_s: float | None) -> None:
        self.pending_every = (every_s,)

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self.clock_offset_s += seconds

    def lose_power_after_bytes(self, n: int, off_s: float) -> None:
        with self._lock:
            self._cut_after = (n, off_s)

    def transfer_bytes(self, n: int) -> int | None:
        """Called by the bootloader with each block's size: how many of them are written
        before the power goes off, or None when it stays on."""
        with self._lock:
            if self._cut_after is None:
                return None
            left, off_s = self._cut_after
            if n <= left:
                self._cut_after = (left - n, off_s)
                return None
            self._cut_after = None
        self.lose_power(off_s)
        return left

    def late_nrc(self, sid: int, nrc: int) -> None:
        with self._lock:
            self._late = (sid, nrc)

    def take_late_nrc(self, sid: int) -> bytes | None:
        """The late refusal for a `sid` request, if one is planned (then no longer)."""
        with self._lock:
            if self._late is None or self._late[0] != sid:
                return None
            nrc, self._late = self._late[1], None
        return bytes([0x7F, sid, nrc])

    def fail_next_boot(self) -> None:
        self._boot_failure = True

    def take_boot_failure(self) -> bool:
        with self._lock:
            failed, self._boot_failure = self._boot_failure, False
            return failed

    def set_conditions(self, *, battery_mv: int | None = None, speed_kmh: int | None = None,
                       ignition: bool | None = None) -> None:
        mv, speed, on = self._conditions
        self._conditions = (mv if battery_mv is None else battery_mv,
                            speed if speed_kmh is None else speed_kmh,
                            on if ignition is None else ignition)

    def conditions(self) -> tuple[int, int, bool]:
        return self._conditions

    def now(self) -> float:
        """The ECU's clock: monotonic time plus every `advance_clock`."""
        return time.monotonic() + self.clock_offset_s

    def operation_duration(self, sid: int) -> float | None:
        with self._lock:
            return self._durations.get(sid)

    def clear(self) -> None:
        with self._lock:
            self._drop.clear()
            self._corrupt.clear()
            self._nrcs.clear()
            self._durations.clear()
            self._cut_after = None
            self._boot_failure = False
            self._late = None
        self._conditions = (12600, 0, True)
        self.pending_every = None
        self.silent = False
        self.extra_latency_ms = 0.0

    def injected_nrc(self, sid: int) -> int | None:
        with self._lock:
            entry = self._nrcs.get(sid)
            if entry is None:
                return None
            nrc, times = entry
            if times is not None:
                if times <= 1:
                    del self._nrcs[sid]
                else:
                    self._nrcs[sid] = (nrc, times - 1)
            return nrc

    def filter_tx(self, data: bytearray) -> bytearray | None:
        """Apply frame faults to an outgoing frame; None means drop it."""
        with self._lock:
            self._tx_count += 1
            n = self._tx_count
            if n in self._drop:
                self._drop.discard(n)
                return None
            if n in self._corrupt:
                self._corrupt.discard(n)
                data = bytearray(data)
                data[-1] ^= 0xFF
        return data


class FaultyTx:
    """Stands in for the bus on an ECU's ISO-TP stack so frame faults hit its transmissions."""

    def __init__(self, bus: Any, plan: FaultPlan) -> None:
        self._bus = bus
        self._plan = plan

    def send(self, msg: Any, timeout: float | None = None) -> None:
        data = self._plan.filter_tx(bytearray(msg.data))
        if data is None:
            return
        msg.data = data
        self._bus.send(msg, timeout)
