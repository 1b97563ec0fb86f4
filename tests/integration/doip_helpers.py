"""Faults for the DoIP gateway that a command starts for itself (`--adapter sim-doip`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from workshop.services import connection
from workshop.simulator.doip_gateway import DoipGateway

GatewayFault = Callable[[DoipGateway], None]


@pytest.fixture
def gateway_faults(monkeypatch: pytest.MonkeyPatch) -> list[GatewayFault]:
    """Append a function of the gateway: each command's gateway gets it as it starts."""
    faults: list[GatewayFault] = []

    class Faulty(DoipGateway):
        def start(self) -> DoipGateway:
            for fault in faults:
                fault(self)
            return super().start()

    monkeypatch.setattr(connection, "DoipGateway", Faulty)
    return faults
