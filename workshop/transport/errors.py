"""Transport-layer exceptions."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError


class TransportError(WorkshopError):
    """The CAN adapter or bus failed."""


class AdapterNotAvailableError(TransportError):
    """The named adapter is unknown, its driver is missing, or the device is unplugged."""


class BusOffError(TransportError):
    """The CAN controller went bus-off: no frame can be sent."""
