"""Who reads a DoIP connection: the caller waiting for its answer, else a background thread.

Over real TCP on loopback: the simulated gateway for UDS exchanges, and a scripted gateway
(doipclient's message classes, bytes on a socket) for what the simulated one never does on
its own, such as asking an idle tester whether it is alive."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from doipclient.messages import (
    AliveCheckRequest,
    AliveCheckResponse,
    RoutingActivationRequest,
    RoutingActivationResponse,
)

from tests.transport.conftest import doip_client
from workshop.services.connection import VehicleConnection
from workshop.simulator.doip_gateway import DoipGateway
from workshop.transport.doip import DoipConnection, DoipError, pack
from workshop.transport.doip_codec import Framer
from workshop.transport.doip_trace import DoipTraceEvent

GATEWAY = 0x1010


def test_a_caller_reads_its_own_answer(demo: VehicleConnection,
                                       gateway: DoipGateway) -> None:
    """After the first exchange no thread hands answers over: the caller reads them."""
    readers: list[tuple[str, str]] = []

    def observe(event: DoipTraceEvent) -> None:
        if event.direction == "rx":
            readers.append((event.kind, threading.current_thread().name))

    with DoipConnection("127.0.0.1", gateway.port, observers=(observe,)) as conn:
        # the background thread stays out while callers are busy; a long grace keeps it
        # out on a loaded machine too, where a caller can be descheduled between requests
        conn.reception.grace_s = 60.0
        with doip_client(demo, conn, gateway, "ENGINE") as ecu:
            first = ecu.read_did(0xF188)
            readers.clear()
            for _ in range(5):
                assert ecu.read_did(0xF188) == first
    me = threading.current_thread().name
    kinds = {kind for kind, _ in readers}
    assert len(readers) == 10 and len(kinds) == 2, readers  # an ACK and an answer each
    assert {name for _, name in readers} == {me}, readers


def test_a_wait_that_times_out_leaves_the_connection_readable(
        demo: VehicleConnection, gateway: DoipGateway) -> None:
    with (DoipConnection("127.0.0.1", gateway.port) as conn,
          doip_client(demo, conn, gateway, "ENGINE") as ecu):
        link = conn.link(0x0FFF)  # nobody answers for this address
        assert link.recv(block=True, timeout=0.05) is None
        link.close()
        assert ecu.read_did(0xF188)  # the next caller reads again


def test_callers_on_several_threads_each_get_their_own_answers(
        demo: VehicleConnection, gateway: DoipGateway) -> None:
    names = ("ENGINE", "ABS", "BODY")
    got: dict[str, list[bytes]] = {}
    failed: list[BaseException] = []
    with DoipConnection("127.0.0.1", gateway.port) as conn, contextlib.ExitStack() as stack:
        clients = [stack.enter_context(doip_client(demo, conn, gateway, name))
                   for name in names]
        expected = {c.target.name: c.read_did(0xF18A) for c in clients}

        def work(client) -> None:  # type: ignore[no-untyped-def]
            try:
                got[client.target.name] = [client.read_did(0xF18A) for _ in range(20)]
            except BaseException as exc:  # reported by the assertion below
                failed.append(exc)

        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not failed, failed
    assert {k: set(v) for k, v in got.items()} == {k: {v} for k, v in expected.items()}


class ScriptedGateway:
    """A gateway that activates routing, then asks its tester whether it is alive."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.heard: list[object] = []
        self.asked = threading.Event()
        self.answered = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        sock, _ = self.server.accept()
        sock.settimeout(10)
        framer = Framer()
        with sock:
            while not self.answered.is_set():
                data = sock.recv(4096)
                if not data:
                    return
                for m in framer.feed(data):
                    self.heard.append(m)
                    if isinstance(m, RoutingActivationRequest):
                        sock.sendall(pack(RoutingActivationResponse(
                            m.source_address, GATEWAY, 0x10)))
                        self.asked.wait(10)  # the test says when the tester is idle
                        sock.sendall(pack(AliveCheckRequest()))
                    elif isinstance(m, AliveCheckResponse):
                        self.answered.set()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def scripted() -> Iterator[ScriptedGateway]:
    gw = ScriptedGateway()
    yield gw
    gw.close()


def test_an_idle_tester_answers_the_gateways_alive_check(scripted: ScriptedGateway) -> None:
    with DoipConnection("127.0.0.1", scripted.port, tls_port=None) as conn:
        assert conn.gateway_address == GATEWAY
        scripted.asked.set()  # nobody waits for anything now: the background thread reads
        assert scripted.answered.wait(10)
    answers = [m for m in scripted.heard if isinstance(m, AliveCheckResponse)]
    assert [m.source_address for m in answers] == [conn.tester_address]


def test_a_connection_dropped_while_idle_is_noticed(scripted: ScriptedGateway) -> None:
    with DoipConnection("127.0.0.1", scripted.port, tls_port=None) as conn:
        scripted.answered.set()  # the scripted gateway closes its end
        scripted.asked.set()
        assert conn.lost.wait(10)
        assert isinstance(conn.error, DoipError)
        assert "closed the connection" in str(conn.error)
