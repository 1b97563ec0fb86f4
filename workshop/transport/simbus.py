"""The `sim` adapter: python-can's virtual bus on a simulated wire (bus-rate model, bus-off)."""

from __future__ import annotations

from typing import Any

import can
from can.interfaces.virtual import VirtualBus

from workshop.transport.busrate import BusRateModel, wire_for


class SimulatedBus(VirtualBus):  # type: ignore[misc]
    """Virtual bus whose sends take their real on-wire time when a rate model is set."""

    def __init__(self, channel: str = "workshop-sim", rate_model: BusRateModel | None = None,
                 **kwargs: Any) -> None:
        kwargs.pop("bitrate", None)
        kwargs.pop("data_bitrate", None)
        super().__init__(channel=channel, **kwargs)
        self.wire = wire_for(channel, rate_model)

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        if self.wire.bus_off:
            raise can.CanOperationError("bus-off: the CAN controller stopped transmitting")
        self.wire.transmit(len(msg.data), msg.is_extended_id, msg.is_fd, msg.bitrate_switch)
        super().send(msg, timeout)
