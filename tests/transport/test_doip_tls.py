"""DoIP over TLS (ISO 13400-2:2019) on loopback: the simulated gateway with its demo-PKI
certificate, the tester with the demo workstation identity, and the refusals in words."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop.services.connection import VehicleConnection
from workshop.services.doip_tls import simulated_gateway_context, workstation_tls_context
from workshop.simulator.doip_gateway import DoipGateway
from workshop.transport.doip import DoipConnection, DoipError, DoipTlsError
from workshop.trust.demo import Signer, demo_init, user_demo_pki
from workshop.trust.store import TrustStore
from workshop.trust.tls import client_context, server_context
from workshop.uds.client import EcuClient


@pytest.fixture
def tls_gateway(demo: VehicleConnection) -> Iterator[DoipGateway]:
    assert demo.simulator is not None
    with DoipGateway(demo.simulator, tls=simulated_gateway_context(), tls_only=True,
                     announce_port=None) as gw:
        yield gw


def test_tls_with_demo_pki_and_a_uds_request(demo: VehicleConnection,
                                             tls_gateway: DoipGateway) -> None:
    assert tls_gateway.tls_port is not None
    ecu = demo.vehicle.ecus[0]
    target = dataclasses.replace(demo.target(ecu), doip_address=tls_gateway.addresses[ecu.name])
    context = workstation_tls_context(simulator=True)
    with (DoipConnection("127.0.0.1", tls_gateway.tls_port, tls=context) as conn,
          EcuClient(conn, target) as client):
        assert conn.tls
        over_tls = client.read_did(0xF190)
    with demo.client(ecu.name) as can_client:
        assert can_client.read_did(0xF190) == over_tls


def test_gateway_certificate_from_another_ca_is_refused(demo: VehicleConnection,
                                                        tmp_path: Path) -> None:
    other = demo_init(tmp_path / "other-oem", b"other")  # a CA the tester does not trust
    rogue = Signer.load(other.gateway_key, other.gateway_cert, b"other")
    assert demo.simulator is not None
    with (DoipGateway(demo.simulator, tls=server_context(rogue.key, rogue.chain),
                      announce_port=None) as gw,
          pytest.raises(DoipTlsError, match="is not trusted: its TLS certificate comes from "
                                            "a CA this trust store does not hold") as info):
        assert gw.tls_port is not None
        DoipConnection("127.0.0.1", gw.tls_port, tls=workstation_tls_context(simulator=True))
    assert info.value.hint is not None and "doip-gateway/" in info.value.hint


def test_tester_without_certificate_is_refused_by_a_gateway_that_asks(
        tls_gateway: DoipGateway) -> None:
    assert tls_gateway.tls_port is not None
    anonymous = client_context(TrustStore.load(user_demo_pki().trust_dir))
    with pytest.raises(DoipTlsError, match="refused this workstation's TLS client "
                                           "certificate") as info:
        DoipConnection("127.0.0.1", tls_gateway.tls_port, tls=anonymous)
    assert info.value.hint is not None and "identity" in info.value.hint


def test_plain_connection_to_a_tls_only_gateway_is_refused(tls_gateway: DoipGateway) -> None:
    # the gateway's answer to routing activation on its plain port: 0x07, TLS required
    with pytest.raises(DoipError, match="accepts diagnostics over TLS only") as info:
        DoipConnection("127.0.0.1", tls_gateway.port, tls_port=None)
    assert info.value.hint is not None and "--tls" in info.value.hint
    # and one that offers TLS beside plain is not used in plain either
    with pytest.raises(DoipError, match=f"offers TLS on port {tls_gateway.tls_port}"):
        DoipConnection("127.0.0.1", tls_gateway.port, tls_port=tls_gateway.tls_port)


def test_trust_store_without_gateway_roots_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "trust" / "firmware").mkdir(parents=True)
    with pytest.raises(Exception, match="no DoIP gateway root"):
        client_context(TrustStore.load(tmp_path / "trust"))
