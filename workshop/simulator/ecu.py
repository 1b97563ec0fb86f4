"""Runtime of one simulated ECU: its ISO-TP link, worker thread, timing and faults."""

from __future__ import annotations

import queue
import threading
import time

from workshop.simulator.dtc_memory import DtcMemory
from workshop.simulator.faults import FaultPlan, FaultyTx
from workshop.simulator.server import Reply, UdsServer
from workshop.simulator.state import VehicleStore
from workshop.transport.isotp_link import LinkAddress, LinkParams, open_link
from workshop.transport.router import BusEndpoint
from workshop.vehicles import EcuDefinition


class SimulatedEcu:
    def __init__(self, definition: EcuDefinition, address: LinkAddress, endpoint: BusEndpoint,
                 store: VehicleStore) -> None:
        self.definition = definition
        self.address = address
        self.faults = FaultPlan()
        self._store = store
        self.dtcs = DtcMemory(definition, store.ecu(definition.name))
        self.server = UdsServer(definition, self.dtcs, time.monotonic, self._save)
        self._rng = self.server.rng
        self._stack = open_link(endpoint, address, LinkParams(fd=definition.fd),
                                server=True, error_handler=lambda _e: None)
        self._stack.tx = FaultyTx(endpoint.bus, self.faults)
        self._requests: queue.Queue[tuple[bytes, bool] | None] = queue.Queue()
        self._running = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def name(self) -> str:
        return self.definition.name

    def _save(self) -> None:
        self._store.save_ecu(self.name, self.dtcs.to_saved())

    def start(self) -> None:
        self._stack.start()
        self._running.set()
        for target in (self._read_physical, self._work):
            t = threading.Thread(target=target, name=f"sim-{self.name}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        if not self._running.is_set():
            return
        self._running.clear()
        self._requests.put(None)
        for t in self._threads:
            t.join(timeout=2)
        self._stack.close()

    def submit_functional(self, payload: bytes) -> None:
        self._requests.put((payload, True))

    def _read_physical(self) -> None:
        while self._running.is_set():
            data = self._stack.recv(block=True, timeout=0.1)
            if data is not None:
                self._requests.put((bytes(data), False))

    def _powered(self) -> bool:
        back = self.faults.power_back_at
        if back is None:
            return True
        if time.monotonic() < back:
            return False
        self.faults.power_back_at = None
        self.server.reboot()  # comes back in its last valid (persisted) state
        return True

    def _work(self) -> None:
        while True:
            item = self._requests.get()
            if item is None:
                return
            request, functional = item
            if not self._powered() or self.faults.silent:
                continue
            nrc = self.faults.injected_nrc(request[0]) if request else None
            replies = self.server.handle(request, functional, nrc)
            self._send(replies)

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
        for i, reply in enumerate(replies):
            wait = (latency if i == 0 else 0) + reply.delay_s
            remaining = started + wait - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
            started = time.monotonic()
            if not self._running.is_set() or not self._powered():
                return
            self._stack.send(reply.data)
