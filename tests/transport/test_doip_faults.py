"""The simulated DoIP gateway's faults, and the exact bytes a tester puts on the wire: each
fault ends in an error in words, never a traceback or a bare timeout."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.doip_helpers import GatewayFault, gateway_faults
from workshop.cli import main
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import SIM_DOIP, AdapterConfig
from workshop.transport.doip import DoipConnection, DoipError
from workshop.vehicles import load_vehicle

__all__ = ["gateway_faults"]  # the fixture


@pytest.fixture
def doip_demo() -> Iterator[VehicleConnection]:
    adapter = AdapterConfig(interface=SIM_DOIP, channel=f"test-{uuid.uuid4()}")
    with VehicleConnection(adapter, load_vehicle("demo-car")) as conn:
        yield conn


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--adapter", "sim-doip", *args])
    return code, capsys.readouterr().err


def test_routing_refused_is_said_in_words(capsys: pytest.CaptureFixture[str],
                                          gateway_faults: list[GatewayFault]) -> None:
    gateway_faults.append(lambda gw: gw.faults.refuse_routing(0x04))
    code, err = cli(capsys, "scan")
    assert code == 3
    assert "routing activation refused: missing authentication (0x04)" in err
    assert "Traceback" not in err


def test_unknown_target_is_nack_0x03_in_words(capsys: pytest.CaptureFixture[str],
                                              gateway_faults: list[GatewayFault]) -> None:
    engine = load_vehicle("demo-car").doip.address("ENGINE")
    gateway_faults.append(lambda gw: gw.faults.unknown_target(engine))
    code, err = cli(capsys, "ecu", "info", "ENGINE")
    assert code == 3
    assert f"refused the message to 0x{engine:04X}: unknown target address (NACK 0x03)" in err
    assert "logical address in the vehicle definition" in err


def test_slow_answers_are_a_clear_no_answer(capsys: pytest.CaptureFixture[str],
                                            gateway_faults: list[GatewayFault]) -> None:
    gateway_faults.append(lambda gw: gw.faults.answer_slowly(6.0))  # past P2 and P2*
    code, err = cli(capsys, "ecu", "info", "ENGINE")
    assert code == 3
    assert "ENGINE" in err and "did not answer" in err, err


def test_gateway_restart_mid_session_then_a_new_connection(
        doip_demo: VehicleConnection) -> None:
    assert doip_demo.gateway is not None and doip_demo.doip is not None
    with doip_demo.client("ENGINE") as ecu:
        ecu.read_did(0xF190)
        doip_demo.gateway.restart()
        assert doip_demo.doip.lost.wait(5)
        with pytest.raises(DoipError, match="closed the connection"):
            ecu.read_did(0xF190)
    # the gateway is back: a new connection activates routing again
    with DoipConnection("127.0.0.1", doip_demo.gateway.port) as again:
        assert again.alive_check() == doip_demo.vehicle.doip.gateway_address


def test_tcp_reset_is_said_as_a_reset(doip_demo: VehicleConnection) -> None:
    assert doip_demo.gateway is not None
    doip_demo.gateway.faults.reset_at(0x22)
    with doip_demo.client("ENGINE") as ecu, pytest.raises(DoipError) as info:
        ecu.read_did(0xF190)
    assert "reset the connection" in str(info.value)
    assert "flash resume" in str(info.value)  # what to do if it was a flash


def test_wrong_host_and_port_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: the connection is refused
        code = main(["--adapter", "doip", "--host", "127.0.0.1", "--port", str(port), "scan"])
    err = capsys.readouterr().err
    assert code == 3 and f"127.0.0.1:{port} refused the connection" in err
    assert main(["--adapter", "doip", "--host", "127.0.0.1", "--port", "70000", "scan"]) == 2
    assert "not a TCP port" in capsys.readouterr().err
    assert main(["--adapter", "doip", "scan"]) == 4
    assert "needs the gateway's address" in capsys.readouterr().err
    assert main(["--host", "127.0.0.1", "scan"]) == 4
    assert "for the doip adapter" in capsys.readouterr().err


def test_bytes_on_the_wire() -> None:
    """Routing activation and a ReadDataByIdentifier as ISO 13400-2 frames them: version
    0x02 and its inverse, payload type, length, then the payload."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def gateway() -> None:
        sock, _ = server.accept()
        with sock:
            seen.append(sock.recv(15))
            sock.sendall(bytes.fromhex("02fd0006 00000009 0e00 0010 10 00000000"))
            seen.append(sock.recv(15))
            sock.sendall(bytes.fromhex("02fd8002 00000005 17e0 0e00 00"))
            sock.recv(1)  # until the tester closes

    thread = threading.Thread(target=gateway, daemon=True)
    thread.start()
    with server, DoipConnection("127.0.0.1", server.getsockname()[1]) as conn:
        assert conn.gateway_address == 0x0010
        link = conn.link(0x17E0)
        link.send_confirmed(b"\x22\xf1\x90")  # returns at the gateway's positive ACK
        conn.close()
        thread.join(5)
    assert seen == [
        # routing activation request: tester 0x0E00, type default, 4 reserved bytes
        bytes.fromhex("02fd0005 00000007 0e00 00 00000000"),
        # diagnostic message 0x0E00 -> 0x17E0 (ENGINE), UDS 22 F190
        bytes.fromhex("02fd8001 00000007 0e00 17e0 22f190"),
    ]
