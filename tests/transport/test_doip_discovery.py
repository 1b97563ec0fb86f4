"""Finding the simulated gateway on loopback: its announcements at start, and its answer to
a vehicle identification request, as typed results (ephemeral ports, loopback only)."""

from __future__ import annotations

from workshop.services.connection import VehicleConnection
from workshop.services.doip_tls import simulated_gateway_context
from workshop.simulator.doip_gateway import ANNOUNCEMENTS, GATEWAY_ADDRESS, DoipGateway
from workshop.transport.doip_discovery import AnnouncementListener, discover


def test_gateway_announces_itself_on_start(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    with AnnouncementListener("127.0.0.1", 0) as listener:
        with DoipGateway(demo.simulator, announce_port=listener.port) as gw:
            found = listener.collect(30, expect=1, tls_port=None)
        assert len(found) == 1
        entity = found[0]
        assert entity.vin == demo.vehicle.vin.ljust(17, "0")[:17]
        assert entity.logical_address == GATEWAY_ADDRESS
        assert (entity.ip, entity.port) == ("127.0.0.1", gw.port)
        assert len(entity.eid) == 6 and len(entity.gid) == 6
        assert entity.tls is None
        assert ANNOUNCEMENTS >= 1


def test_discover_finds_a_tls_gateway_and_says_so(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    with DoipGateway(demo.simulator, tls=simulated_gateway_context(), announce_port=None
                     ) as gw:
        assert gw.tls_port is not None
        [entity] = discover(30, port=gw.port, expect=1, tls_port=gw.tls_port)
    assert entity.tls is True
    assert entity.port == gw.port
    assert "TLS" in entity.describe() and f"127.0.0.1:{gw.port}" in entity.describe()


def test_discover_without_tls(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    with DoipGateway(demo.simulator, announce_port=None) as gw:
        # a free port stands for the TLS port nobody listens on
        with AnnouncementListener("127.0.0.1", 0) as probe:
            closed_port = probe.port  # UDP: no TCP listener there
        [entity] = discover(30, port=gw.port, expect=1, tls_port=closed_port)
    assert entity.tls is False
    assert "no TLS" in entity.describe()
