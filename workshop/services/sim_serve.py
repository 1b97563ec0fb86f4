"""The simulated vehicle and its DoIP gateway as a service for other tools (`workshop sim
serve --doip`): its ECUs on a virtual CAN bus inside this process, reachable from outside
only through the gateway's TCP/UDP port on the loopback interface."""

from __future__ import annotations

import threading
from types import TracebackType

from workshop.services.doip_tls import simulated_gateway_context
from workshop.simulator import SimulatedVehicle
from workshop.simulator.doip_gateway import DoipGateway
from workshop.transport.adapters import AdapterConfig
from workshop.vehicles import VehicleDefinition

LOOPBACK = "127.0.0.1"


class ServedVehicle:
    """`with ServedVehicle(vehicle, adapter, port) as served:` listens on served.port;
    `stop()` (from any thread) ends `serve_until_stopped()`."""

    def __init__(self, vehicle: VehicleDefinition, adapter: AdapterConfig, port: int, *,
                 tls_port: int | None = None) -> None:
        """`tls_port`: serve TLS only, on that port (0: a free one), with the demo PKI's
        gateway certificate, asking testers for a workstation certificate."""
        self.vehicle, self.adapter, self.requested_port = vehicle, adapter, port
        self.requested_tls_port = tls_port
        self.simulator: SimulatedVehicle | None = None
        self.gateway: DoipGateway | None = None
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        assert self.gateway is not None
        return int(self.gateway.port)

    @property
    def tls_port(self) -> int | None:
        assert self.gateway is not None
        return None if self.gateway.tls_port is None else int(self.gateway.tls_port)

    def __enter__(self) -> ServedVehicle:
        self.simulator = SimulatedVehicle(self.vehicle, self.adapter).start()
        try:
            tls = self.requested_tls_port is not None
            self.gateway = DoipGateway(
                self.simulator, LOOPBACK, self.requested_port,
                tls=simulated_gateway_context() if tls else None,
                tls_port=self.requested_tls_port or 0, tls_only=tls).start()
        except BaseException:
            self.simulator.shutdown()
            raise
        return self

    def serve_until_stopped(self) -> None:
        # a timed wait, so that Ctrl-C (KeyboardInterrupt) reaches the main thread at once
        while not self._stop.wait(0.2):
            pass

    def stop(self) -> None:
        self._stop.set()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.gateway is not None:
            self.gateway.shutdown()
        if self.simulator is not None:
            self.simulator.shutdown()
