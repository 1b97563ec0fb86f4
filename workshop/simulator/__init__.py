"""The simulated vehicle: UDS servers over real ISO-TP on python-can's virtual bus."""

from workshop.simulator.faults import FaultPlan
from workshop.simulator.vehicle import SimulatedVehicle, reset_vehicle_state

__all__ = ["FaultPlan", "SimulatedVehicle", "reset_vehicle_state"]
