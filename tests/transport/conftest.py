"""The simulated vehicle's DoIP gateway on loopback, for the transport tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from workshop.services.connection import VehicleConnection
from workshop.simulator.doip_gateway import DoipGateway
from workshop.transport.doip import DoipConnection
from workshop.uds.client import EcuClient


@pytest.fixture
def gateway(demo: VehicleConnection) -> Iterator[DoipGateway]:
    assert demo.simulator is not None
    with DoipGateway(demo.simulator, "127.0.0.1", 0) as gw:
        yield gw


def doip_client(demo: VehicleConnection, conn: DoipConnection, gw: DoipGateway, ecu: str
                ) -> EcuClient:
    """A client of `ecu` over `conn`, at the address the gateway gave it."""
    definition = demo.vehicle.ecu(ecu)
    target = dataclasses.replace(demo.target(definition),
                                 doip_address=gw.addresses[definition.name])
    return EcuClient(conn, target)
