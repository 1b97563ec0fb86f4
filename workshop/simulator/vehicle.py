"""A whole simulated vehicle on one virtual CAN channel."""

from __future__ import annotations

from types import TracebackType

import can

from workshop.simulator.described import described
from workshop.simulator.doip_ecu import DoipNativeEcu
from workshop.simulator.ecu import SimulatedEcu
from workshop.simulator.faults import FaultPlan
from workshop.simulator.state import VehicleStore, reset_state
from workshop.transport.adapters import AdapterConfig, open_bus
from workshop.transport.isotp_link import ADDRESSING_29BIT_FIXED, parse_single_frame
from workshop.transport.router import BusEndpoint
from workshop.uds.targets import link_address
from workshop.vehicles import VehicleDefinition, load_vehicle
from workshop.vehicles.ecu_descriptions import ecu_descriptions


class SimulatedVehicle:
    """Start with `with SimulatedVehicle(definition, adapter): ...`; ECUs answer until exit."""

    def __init__(self, definition: VehicleDefinition, adapter: AdapterConfig | None = None) -> None:
        self.definition = definition
        self.adapter = adapter or AdapterConfig()
        self._endpoint = BusEndpoint(open_bus(self.adapter))
        store = self.store = VehicleStore(definition.name)
        # an Ethernet ECU is not on the CAN bus: the DoIP gateway serves it (`gateway_end`)
        self.ecus: dict[str, SimulatedEcu] = {}
        for e in definition.ecus:
            spoken = described(e)  # an ECU with a description serves what it says
            ecu = (DoipNativeEcu(spoken.definition, store) if e.ethernet else
                   SimulatedEcu(spoken.definition, link_address(definition, e), self._endpoint,
                                store, ecu_descriptions(definition, e)))
            ecu.server.routine_answers.update(spoken.routine_answers)
            self.ecus[e.name] = ecu
        self._endpoint.router.add_tap(self._on_frame)
        self._started = False

    @property
    def endpoint(self) -> BusEndpoint:
        """The simulated vehicle's side of the bus: its taps see every frame a tester sends."""
        return self._endpoint

    def fault(self, ecu: str) -> FaultPlan:
        return self.ecus[self.definition.ecu(ecu).name].faults

    def bus_off(self, on: bool = True) -> None:
        """Put the simulated wire into bus-off: every sender's transmit fails."""
        self._endpoint.bus.wire.bus_off = on  # type: ignore[attr-defined]

    def _on_frame(self, msg: can.Message) -> None:
        if msg.arbitration_id != self.definition.functional_id:
            return
        if msg.is_extended_id != (self.definition.addressing == ADDRESSING_29BIT_FIXED):
            return
        payload = parse_single_frame(bytes(msg.data))
        if payload:
            for ecu in self.ecus.values():
                if not ecu.definition.ethernet:
                    ecu.submit_functional(payload)

    def start(self) -> SimulatedVehicle:
        if not self._started:
            for ecu in self.ecus.values():
                ecu.start()
            self._started = True
        return self

    def shutdown(self) -> None:
        if self._started:
            for ecu in self.ecus.values():
                ecu.stop()
            self._started = False
        self._endpoint.close()

    def __enter__(self) -> SimulatedVehicle:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()


def reset_vehicle_state(name_or_path: str) -> bool:
    return reset_state(load_vehicle(name_or_path).name)
