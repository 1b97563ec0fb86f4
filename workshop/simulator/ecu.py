"""Runtime of one simulated ECU: its ISO-TP link, worker thread, timing and faults."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from workshop.simulator import bootloaders
from workshop.simulator.dtc_memory import DtcMemory
from workshop.simulator.faults import FaultPlan, FaultyTx
from workshop.simulator.flash_memory import FlashMemory
from workshop.simulator.live_signals import live_dids
from workshop.simulator.protocol import Reply
from workshop.simulator.server import UdsServer
from workshop.simulator.state import VehicleStore
from workshop.transport.isotp_link import LinkAddress, LinkParams, open_link
from workshop.transport.router import BusEndpoint
from workshop.vehicles import EcuDefinition
from workshop.vehicles.data_ids import NO_DESCRIPTIONS, DataDescriptions

# How long an idle simulated link's ISO-TP threads sleep: a frame, a send or a stop wakes
# them at once, so only its timeouts are noticed this late. A 60-ECU vehicle and its
# gateway have 120 links; at can-isotp's default 50 ms their idle wake-ups took a third of
# a core.
SIMULATOR_IDLE_S = 1.0
# A wait shorter than this is not waited: the OS would make it last about this long anyway
# (Linux's timer slack is 50 us), e.g. an instantly writing ECU's microseconds per block.
SHORTEST_WAIT_S = 1e-4


class SimulatedEcu:
    def __init__(self, definition: EcuDefinition, address: LinkAddress | None,
                 endpoint: BusEndpoint | None, store: VehicleStore,
                 descriptions: DataDescriptions = NO_DESCRIPTIONS) -> None:
        self.definition = definition
        self.address = address
        self.faults = FaultPlan()
        self._store = store
        self.dtcs = DtcMemory(definition, store.ecu(definition.name))
        self.flash = FlashMemory(definition, store.path.parent / "flash",
                                 bootloaders.for_ecu(definition).banks)
        self.server = UdsServer(definition, self.dtcs, self.faults.now, self._save,
                                flash=self.flash)
        self.server.conditions = self.faults.conditions
        self.server.live = live_dids(definition.sim_live, descriptions)
        self.server.power_cut_after = self.faults.transfer_bytes
        self.server.boot_fails = self.faults.take_boot_failure
        self._rng = self.server.rng
        self._requests: queue.SimpleQueue[tuple[bytes, bool] | None] = queue.SimpleQueue()
        self._stack = self._open_link(endpoint, lambda data: self._requests.put((data, False)))
        self._running = threading.Event()
        self._stopped = threading.Event()  # wakes a reply that is waiting out its delay
        self._threads: list[threading.Thread] = []
        self._held: bytes | None = None  # a late answer, sent before the next physical one

    def _open_link(self, endpoint: BusEndpoint | None, deliver: Callable[[bytes], None]
                   ) -> Any:
        """The ECU's side of its transport: here ISO-TP on the vehicle's bus, each request
        handed to `deliver` as it completes."""
        assert endpoint is not None and self.address is not None
        stack = open_link(endpoint, self.address, LinkParams(fd=self.definition.fd),
                          server=True, error_handler=lambda _e: None, deliver=deliver,
                          idle_s=SIMULATOR_IDLE_S)
        stack.tx = FaultyTx(endpoint.bus, self.faults)
        return stack

    @property
    def name(self) -> str:
        return self.definition.name

    def _save(self) -> None:
        self._store.save_ecu(self.name, self.dtcs.to_saved())

    def start(self) -> None:
        self._stack.start()
        self._stopped.clear()
        self._running.set()
        t = threading.Thread(target=self._work, name=f"sim-{self.name}", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        if not self._running.is_set():
            return
        self._running.clear()
        self._stopped.set()
        self._requests.put(None)
        for t in self._threads:
            t.join(timeout=2)
        self._stack.close()

    def submit_functional(self, payload: bytes) -> None:
        self._requests.put((payload, True))

    def _powered(self) -> bool:
        back = self.faults.power_back_at
        if back is None:
            return True
        if time.monotonic() < back:
            return False
        self.faults.power_back_at = None
        self.server.restart()  # comes back in its last valid (persisted) state
        self.faults.powered.set()
        return True

    def _next_request(self) -> tuple[bytes, bool] | None:
        """The next request; while the power is off, wake when it comes back to reboot."""
        while True:
            back = self.faults.power_back_at
            try:
                return self._requests.get(
                    timeout=None if back is None else max(0.0, back - time.monotonic()))
            except queue.Empty:
                self._powered()

    def _work(self) -> None:
        while True:
            item = self._next_request()
            if item is None:
                return
            request, functional = item
            if not self._powered() or self.faults.silent:
                continue
            late = self.faults.take_late_nrc(request[0]) if request else None
            if late is not None:
                self._held = late
                continue
            if self._held is not None and not functional:
                self._stack.send(self._held)
                self._held = None
            nrc = self.faults.injected_nrc(request[0]) if request else None
            replies = self.server.handle(request, functional, nrc)
            duration = self.faults.operation_duration(request[0]) if request else None
            if duration is not None and len(replies) > 1 and replies[0].is_pending:
                replies[1].delay_s = duration
            self._send(replies)

    def _pending_every_s(self) -> float | None:
        if self.faults.pending_every is not None:
            return self.faults.pending_every[0]
        return self.definition.p2_star_ms / 2000

    def _latency_s(self) -> float:
        low, high = self.definition.latency_ms
        return (self._rng.uniform(low, high) + self.faults.extra_latency_ms) / 1000

    def _send(self, replies: list[Reply]) -> None:
        latency = self._latency_s()
        p2 = self.definition.p2_ms / 1000
        if replies and latency >= p2 and replies[0].data[:1] != b"\x7f":
            # Too slow for P2: say so with response-pending, as a real ECU must.
            # The pending answer goes out at once (within P2); the work's latency then
            # delays the real answer.
            sid = replies[0].data[0] - 0x40
            first = Reply(latency + replies[0].delay_s, replies[0].data)
            replies = [Reply(0.0, bytes([0x7F, sid, 0x78])), first, *replies[1:]]
            latency = 0.0
        started = time.monotonic()
        pending: bytes | None = None
        for i, reply in enumerate(replies):
            due = started + (latency if i == 0 else 0) + reply.delay_s
            if not self._wait(due, pending):
                return
            started = time.monotonic()
            if not self._running.is_set() or not self._powered():
                return
            self._stack.send(reply.data)
            pending = reply.data if reply.is_pending else None

    def _wait(self, due: float, pending: bytes | None) -> bool:
        """Wait until `due`; after a 0x78, repeat it before P2* runs out, as ISO 14229-2
        requires of a server still working. False when stopped or powered off meanwhile."""
        every = self._pending_every_s() if pending is not None else None
        while (remaining := due - time.monotonic()) > SHORTEST_WAIT_S:
            if self._stopped.wait(remaining if every is None else min(remaining, every)):
                return False
            if every is None or due - time.monotonic() <= 0:
                break
            if not self._powered():
                return False
            assert pending is not None
            self._stack.send(pending)
        return True
