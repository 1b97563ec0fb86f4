"""DoIP (ISO 13400-2) on loopback: the simulated vehicle's gateway, routed to its CAN ECUs,
and the real UDS client over one TCP connection."""

from __future__ import annotations

import dataclasses

import pytest

from tests.transport.conftest import doip_client
from workshop.diagnostics.scan import scan_vehicle
from workshop.services.connection import VehicleConnection
from workshop.simulator.doip_gateway import GATEWAY_ADDRESS, DoipGateway
from workshop.transport.doip import (
    DiagnosticNackError,
    DoipConnection,
    DoipError,
)
from workshop.transport.doip_discovery import entity_status, identify
from workshop.transport.doip_trace import DoipTraceEvent
from workshop.uds.client import EcuClient

IDENT_DIDS = (0xF188, 0xF19E, 0xF18A)


def test_vehicle_identification_over_udp(demo: VehicleConnection, gateway: DoipGateway) -> None:
    entity = identify("127.0.0.1", gateway.port)
    assert entity.vin == demo.vehicle.vin.ljust(17, "0")[:17]
    assert entity.logical_address == GATEWAY_ADDRESS


def test_identification_dids_over_doip_match_can(demo: VehicleConnection,
                                                 gateway: DoipGateway) -> None:
    names = [e.name for e in demo.vehicle.ecus][:2]
    with DoipConnection("127.0.0.1", gateway.port) as conn:
        assert conn.gateway_address == GATEWAY_ADDRESS
        # two ECUs behind one TCP connection, each with its own client
        clients = [doip_client(demo, conn, gateway, name) for name in names]
        try:
            for c in clients:
                c.open()
            over_ip = [c.read_identity(IDENT_DIDS).values for c in clients]
        finally:
            for c in clients:
                c.close()
    for name, values in zip(names, over_ip, strict=True):
        assert values  # the ECU answered
        with demo.client(name) as can_client:
            assert can_client.read_identity(IDENT_DIDS).values == values


def test_unknown_target_is_a_clear_nack(demo: VehicleConnection, gateway: DoipGateway) -> None:
    definition = demo.vehicle.ecus[0]
    target = dataclasses.replace(demo.target(definition), doip_address=0x1FFF)
    with (DoipConnection("127.0.0.1", gateway.port) as conn, EcuClient(conn, target) as ecu,
          pytest.raises(DiagnosticNackError) as info):
        ecu.read_did(0xF190)
    assert info.value.code == 0x03
    assert "unknown target address" in str(info.value)
    assert "0x1FFF" in str(info.value)


def test_routing_activation_refused_for_a_non_tester_address(gateway: DoipGateway) -> None:
    with pytest.raises(DoipError, match="routing activation refused: unknown source"):
        DoipConnection("127.0.0.1", gateway.port, tester_address=0x1001)


def test_gateway_gone_is_a_doip_error_not_a_timeout(demo: VehicleConnection,
                                                    gateway: DoipGateway) -> None:
    name = demo.vehicle.ecus[0].name
    with (DoipConnection("127.0.0.1", gateway.port) as conn,
          doip_client(demo, conn, gateway, name) as ecu):
        ecu.read_did(0xF190)
        gateway.shutdown()
        assert conn.lost.wait(5)
        with pytest.raises(DoipError, match="closed the connection"):
            ecu.read_did(0xF190)


def test_scan_over_one_doip_connection_matches_can(demo: VehicleConnection,
                                                   gateway: DoipGateway) -> None:
    """The scan service, every ECU of the vehicle at once, over one TCP connection."""
    targets = [(dataclasses.replace(demo.target(e), doip_address=gateway.addresses[e.name]),
                "definition") for e in demo.vehicle.ecus]
    with DoipConnection("127.0.0.1", gateway.port) as conn:
        over_ip = scan_vehicle(conn, demo.vehicle.name, targets, {})
    assert demo.endpoint is not None
    over_can = scan_vehicle(demo.endpoint, demo.vehicle.name,
                            [(demo.target(e), "definition") for e in demo.vehicle.ecus], {})
    assert all(e.responded for e in over_ip.ecus), [e.error for e in over_ip.ecus]
    assert {e.name: (e.identity.values, [d.code for d in e.dtcs]) for e in over_ip.ecus} == {
        e.name: (e.identity.values, [d.code for d in e.dtcs]) for e in over_can.ecus}


def test_a_gateway_out_of_memory_is_asked_again_by_the_scan(demo: VehicleConnection,
                                                           gateway: DoipGateway) -> None:
    """NACK 0x05: the gateway had no room for the message; the ECU is asked once more, after
    the others, and its result is whole."""
    engine = demo.vehicle.ecus[0]
    address = gateway.addresses[engine.name]
    gateway.faults.out_of_memory(address, times=1)
    targets = [(dataclasses.replace(demo.target(e), doip_address=gateway.addresses[e.name]),
                "definition") for e in demo.vehicle.ecus]
    nacks: list[DoipTraceEvent] = []
    with DoipConnection("127.0.0.1", gateway.port) as conn:
        conn.observers.append(lambda e: nacks.append(e) if e.payload_type == 0x8003 else None)
        result = scan_vehicle(conn, demo.vehicle.name, targets, {})
    assert all(e.error is None for e in result.ecus), [e.error for e in result.ecus]
    assert result.ecus[0].identity.software_version
    # the gateway's NACK as it came: from the ECU's address to the tester, code 0x05
    assert [(n.source, n.target, n.data[:5]) for n in nacks] == [
        (address, conn.tester_address, address.to_bytes(2, "big") + b"\x0e\x00\x05")]


def test_alive_check_and_entity_status(gateway: DoipGateway) -> None:
    with DoipConnection("127.0.0.1", gateway.port) as conn:
        assert conn.alive_check() == GATEWAY_ADDRESS
        status = entity_status("127.0.0.1", gateway.port)
    assert status.node_type == 0x00  # a gateway
    assert status.open_sockets == 1
    assert status.max_sockets >= 1


class _Reserved:
    """A message of a payload type ISO 13400-2 reserves."""

    payload_type = 0x7777

    def pack(self) -> bytes:
        return b""


def test_unknown_payload_type_is_a_generic_nack(gateway: DoipGateway) -> None:
    with DoipConnection("127.0.0.1", gateway.port) as conn:
        conn.send(_Reserved())
        error = conn.rejections.get(timeout=5)
        assert "unknown payload type" in str(error)
        assert conn.alive_check() == GATEWAY_ADDRESS  # the connection is still usable
