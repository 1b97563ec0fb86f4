"""The `sim` adapter: python-can's virtual bus on a simulated wire (bus-rate model, bus-off).

With a rate model, the wire carries one frame at a time, each for its own on-wire time
(`BusRateModel.message_time`), and hands it to the other nodes when its last bit has left.
Frames queued by senders follow each other without a gap, as a CAN controller sends the
frames in its transmit buffer back to back. A sender may queue up to `TX_QUEUE_S` of frames
ahead of the wire (a few dozen frames, as an adapter's transmit buffer holds; with a shorter
queue Python's thread scheduling leaves the wire idle between frames) before its send
blocks; it learns when its last frame has left from `wait_sent` (the transmit confirmation).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import can
from can.interfaces.virtual import VirtualBus, channels_lock

from workshop.transport.busrate import BusRateModel

log = logging.getLogger(__name__)

TX_QUEUE_S = 0.010
IDLE_EXIT_S = 1.0  # the wire's delivery thread ends after this long without frames

Deliver = Callable[[can.Message], None]


class SimulatedWire:
    """One physical bus: frames occupy it one after another, like arbitration on a real bus
    (first come, first sent, rather than lowest ID first)."""

    def __init__(self, model: BusRateModel | None, tx_queue_s: float = TX_QUEUE_S) -> None:
        self.model = model
        self.tx_queue_s = tx_queue_s
        self.bus_off = False
        self._cond = threading.Condition()
        self._queue: deque[tuple[float, Deliver, can.Message]] = deque()
        self._free_at = 0.0
        self._thread: threading.Thread | None = None

    def transmit(self, msg: can.Message, deliver: Deliver) -> float:
        """Queue `msg`; `deliver` hands it to the other nodes once it has left the wire.

        Returns the perf_counter time at which its last bit leaves. Blocks the sender while
        it is more than `tx_queue_s` ahead of the wire, as a full transmit queue does."""
        model = self.model
        if model is None:
            deliver(msg)
            return time.perf_counter()
        duration = model.message_time(msg)
        with self._cond:
            start = max(time.perf_counter(), self._free_at)
            end = self._free_at = start + duration
            self._queue.append((end, deliver, msg))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sim-wire",
                                                 daemon=True)
                self._thread.start()
            self._cond.notify()
        ahead = end - self.tx_queue_s - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        return end

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._cond.wait(IDLE_EXIT_S)
                    if not self._queue:
                        self._thread = None
                        return
                due = self._queue[0][0]
            # Frames are queued in wire order, so the head stays the first one due.
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            now = time.perf_counter()
            ready = []
            with self._cond:
                while self._queue and self._queue[0][0] <= now:
                    ready.append(self._queue.popleft())
            for _end, deliver, msg in ready:
                # The sender's bus may have been shut down while its frame was on the wire.
                with suppress(can.CanError):
                    deliver(msg)


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


class _Direct:
    """A listening bus's place among the channel's receive queues."""

    def __init__(self, on_frame: Deliver) -> None:
        self._on_frame = on_frame

    def put(self, msg: can.Message, block: bool = True, timeout: float | None = None) -> None:
        # python-can's own virtual buses on the channel put with block and timeout too
        try:
            self._on_frame(msg)
        except Exception:  # a listener's bug must not stop the wire for every node
            log.exception("a simulated bus listener failed on a frame")

    def get(self, block: bool = True, timeout: float | None = None) -> can.Message:
        if block and timeout:
            time.sleep(timeout)
        raise queue.Empty


class SimulatedBus(VirtualBus):  # type: ignore[misc]
    """Virtual bus whose sends take their real on-wire time when a rate model is set."""

    def __init__(self, channel: str = "workshop-sim", rate_model: BusRateModel | None = None,
                 **kwargs: Any) -> None:
        kwargs.pop("bitrate", None)
        kwargs.pop("data_bitrate", None)
        super().__init__(channel=channel, **kwargs)
        # Its receive queue, in C (python-can's is a queue.Queue, locked in Python).
        self._swap_inbox(queue.SimpleQueue())
        self.wire = wire_for(channel, rate_model)
        self._sent = threading.local()  # each sending thread's last frame's end

    def _swap_inbox(self, inbox: Any) -> None:
        with channels_lock:
            self.channel[self.channel.index(self.queue)] = inbox
            self.queue = inbox

    def listen(self, on_frame: Deliver) -> None:
        """Hand each frame from the others to `on_frame` as it leaves the wire, from the
        wire's thread, instead of queueing it for `recv` (which then receives nothing)."""
        self._swap_inbox(_Direct(on_frame))

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        if self.wire.bus_off:
            raise can.CanOperationError("bus-off: the CAN controller stopped transmitting")
        self._sent.end = self.wire.transmit(msg, self._deliver)

    def _deliver(self, msg: can.Message) -> None:
        """VirtualBus.send, with one copy built field by field for every receiver rather
        than a deepcopy each: with 60 simulated ECUs a deepcopy per frame was a tenth of
        the simulator's time. Receivers only read frames."""
        self._check_if_open()
        copy = can.Message(
            timestamp=time.time(), arbitration_id=msg.arbitration_id,
            is_extended_id=msg.is_extended_id, is_remote_frame=msg.is_remote_frame,
            is_error_frame=msg.is_error_frame, channel=self.channel_id, dlc=msg.dlc,
            data=bytes(msg.data), is_fd=msg.is_fd, is_rx=True,
            bitrate_switch=msg.bitrate_switch, error_state_indicator=msg.error_state_indicator)
        for bus_queue in self.channel:
            if bus_queue is not self.queue or self.receive_own_messages:
                bus_queue.put(copy)

    def wait_sent(self) -> None:
        """Return once the last frame this thread sent has left the wire."""
        end: float = getattr(self._sent, "end", 0.0)
        delay = end - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
