"""The simulated vehicle's DoIP edge node (ISO 13400-2) on 127.0.0.1.

A gateway as in a real car: testers connect over TCP, activate routing, and send diagnostic
messages to an ECU's logical address; the gateway acknowledges each one and forwards its
UDS payload over its own CAN side (an ISO-TP tester link per ECU on the vehicle's bus), and
hands every answer from CAN back to the connection as a diagnostic message from that ECU.
Vehicle identification is answered over UDP on the same port number, and the gateway
announces itself on start (three vehicle announcements, to 127.0.0.1 only).

With a TLS context (workshop.trust.tls.server_context) it also serves TLS on `tls_port`;
`tls_only` makes the plain port answer routing activation with 0x07 (TLS required), as an
ISO 13400-2:2019 gateway that takes diagnostics over TLS only.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from doipclient.messages import (
    AliveCheckRequest,
    AliveCheckResponse,
    DiagnosticMessage,
    DiagnosticMessageNegativeAcknowledgement,
    DiagnosticMessagePositiveAcknowledgement,
    DoipEntityStatusRequest,
    EntityStatusResponse,
    GenericDoIPNegativeAcknowledge,
    ReservedMessage,
    RoutingActivationRequest,
    RoutingActivationResponse,
    VehicleIdentificationRequest,
    VehicleIdentificationResponse,
)

from workshop.simulator.doip_ecu import DoipNativeEcu, PipeEnd
from workshop.simulator.doip_faults import GatewayFaults
from workshop.simulator.ecu import SIMULATOR_IDLE_S
from workshop.simulator.vehicle import SimulatedVehicle
from workshop.transport.adapters import open_bus
from workshop.transport.doip import (
    NACK_OUT_OF_MEMORY,
    ROUTING_REQUIRES_TLS,
    ROUTING_SUCCESS,
    Framer,
    pack,
    read_messages,
)
from workshop.transport.doip_tls import TlsChannel
from workshop.transport.isotp_link import (
    ADDRESSING_29BIT_FIXED,
    LinkParams,
    RoutedLink,
    functional_message,
    open_link,
)
from workshop.transport.router import BusEndpoint
from workshop.uds.targets import doip_address, link_address

GATEWAY_ADDRESS = 0x0010
NACK_INVALID_SOURCE, NACK_UNKNOWN_TARGET, NACK_TARGET_UNREACHABLE = 0x02, 0x03, 0x06
NACK_TOO_LARGE = 0x04
ROUTING_UNKNOWN_SOURCE, ROUTING_UNSUPPORTED_TYPE = 0x00, 0x06
GENERIC_UNKNOWN_PAYLOAD_TYPE = 0x01
ACTIVATION_TYPES = (0x00, 0x01, 0xE1)  # default, WWH-OBD, central security
MAX_SOCKETS = 4
MAX_DATA_SIZE = 0xFFFF  # the largest diagnostic message it takes (ISO-TP FD limit behind it)
ANNOUNCEMENTS, ANNOUNCE_INTERVAL_S = 3, 0.5  # ISO 13400-2 A_DoIP_Announce_Num / _Interval
UDP_DISCOVERY = 13400


def is_tester_address(address: int) -> bool:
    return 0x0E00 <= address <= 0x0FFF  # ISO 13400-2 external test equipment


class _Client:
    """One tester's TCP connection."""

    def __init__(self, sock: socket.socket | TlsChannel, tls: bool = False) -> None:
        self.sock = sock
        self.tls = tls
        self.lock = threading.Lock()
        self.tester: int | None = None  # source address once routing is active

    def send(self, message: Any) -> None:
        with self.lock, contextlib.suppress(OSError):
            self.sock.sendall(pack(message))


class DoipGateway:
    """Start with `with DoipGateway(vehicle) as gw:`; testers connect to gw.port."""

    def __init__(self, vehicle: SimulatedVehicle, host: str = "127.0.0.1", port: int = 0, *,
                 tls: ssl.SSLContext | None = None, tls_port: int = 0, tls_only: bool = False,
                 announce_port: int | None = UDP_DISCOVERY) -> None:
        self.vehicle = vehicle
        definition = vehicle.definition
        self.addresses = {e.name: doip_address(definition, e) for e in definition.ecus}
        self.address = definition.doip.gateway_address
        self.functional_address = definition.doip.functional_address
        self.faults = GatewayFaults()
        self._endpoint = BusEndpoint(open_bus(vehicle.adapter))  # the gateway's CAN side
        # an Ethernet ECU of the definition is the gateway's own (no CAN hop)
        self._native = [ecu for ecu in vehicle.ecus.values() if isinstance(ecu, DoipNativeEcu)]
        served = {ecu.definition.name: ecu.gateway_end for ecu in self._native}
        self._links: dict[int, RoutedLink | PipeEnd] = {}
        for e in definition.ecus:
            address = doip_address(definition, e)
            if e.name in served:
                served[e.name].deliver_to(self._answerer(address))
                self._links[address] = served[e.name]
            else:
                self._links[address] = open_link(
                    self._endpoint, link_address(definition, e), LinkParams(fd=e.fd),
                    deliver=self._answerer(address), idle_s=SIMULATOR_IDLE_S, queued=True)
        self._owner: dict[int, _Client] = {}  # who last sent to an ECU gets its answers
        self._tcp = socket.create_server((host, port))
        self.host, self.port = self._tcp.getsockname()[:2]
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((host, self.port))
        self._tls = tls
        self.tls_only = tls_only and tls is not None
        self._tls_tcp = socket.create_server((host, tls_port)) if tls is not None else None
        self.tls_port = self._tls_tcp.getsockname()[1] if self._tls_tcp is not None else None
        self.announce_port = announce_port
        self._running = threading.Event()
        self._stopping = threading.Event()
        self._clients: list[_Client] = []
        self._threads: list[threading.Thread] = []

    def attach(self, ecu: DoipNativeEcu, address: int) -> None:
        """Serve an Ethernet ECU at `address` itself (before start)."""
        if self._running.is_set():
            raise RuntimeError("attach Ethernet ECUs before the gateway starts")
        if address in self._links or address == GATEWAY_ADDRESS:
            raise ValueError(f"logical address 0x{address:04X} is taken")
        ecu.gateway_end.deliver_to(self._answerer(address))
        self._links[address] = ecu.gateway_end
        self._native.append(ecu)
        self.addresses[ecu.name] = address

    def start(self) -> DoipGateway:
        self._running.set()
        for link in self._links.values():
            link.start()
        self._spawn(lambda: self._accept(self._tcp, None), "doip-accept")
        if self._tls_tcp is not None:
            self._spawn(lambda: self._accept(self._tls_tcp, self._tls), "doip-accept-tls")
        self._spawn(self._identify, "doip-udp")
        if self.announce_port is not None:
            self._spawn(self._announce, "doip-announce")
        return self

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def identity(self) -> VehicleIdentificationResponse:
        vin = self.vehicle.definition.vin.ljust(17, "0")[:17]
        return VehicleIdentificationResponse(vin, self.address, b"\x02\x00\x00\x00\x00\x10",
                                             b"\x00" * 6, 0x00)

    # -- UDP: vehicle identification ------------------------------------------------------

    def _announce(self) -> None:
        """Vehicle announcements from the gateway's UDP port, to loopback only."""
        for _ in range(ANNOUNCEMENTS):
            with contextlib.suppress(OSError):
                self._udp.sendto(pack(self.identity()), ("127.0.0.1", self.announce_port))
            if not self._running.is_set():
                return
            self._stopping.wait(ANNOUNCE_INTERVAL_S)

    def _identify(self) -> None:
        parser = Framer()
        while self._running.is_set():
            try:
                data, peer = self._udp.recvfrom(4096)
            except OSError:
                return
            for m in read_messages(parser, data):
                answer: Any = None
                if isinstance(m, VehicleIdentificationRequest):
                    answer = self.identity()
                elif isinstance(m, DoipEntityStatusRequest):
                    answer = EntityStatusResponse(0x00, MAX_SOCKETS, len(self._clients),
                                                  MAX_DATA_SIZE)
                if answer is not None:
                    with contextlib.suppress(OSError):
                        self._udp.sendto(pack(answer), peer)

    # -- TCP: routing activation and diagnostic messages ----------------------------------

    def _accept(self, server: socket.socket, tls: ssl.SSLContext | None) -> None:
        while self._running.is_set():
            try:
                sock, _ = server.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # ACK, then answer
            client = _Client(sock if tls is None else TlsChannel(sock, tls, server_side=True),
                             tls is not None)
            self._clients.append(client)
            self._spawn(lambda c=client: self._serve(c), "doip-client")

    def _serve(self, client: _Client) -> None:
        parser = Framer()
        try:
            if isinstance(client.sock, TlsChannel):
                client.sock.handshake()  # an untrusted tester ends here (ssl.SSLError)
            while self._running.is_set():
                data = client.sock.recv(65536)
                if not data:
                    return
                for m in read_messages(parser, data):
                    self._handle(client, m)
        except OSError:
            return
        finally:
            client.sock.close()
            if client in self._clients:
                self._clients.remove(client)

    def _handle(self, client: _Client, m: Any) -> None:
        if isinstance(m, RoutingActivationRequest):
            code = ROUTING_SUCCESS
            if self.tls_only and not client.tls:
                code = ROUTING_REQUIRES_TLS
            elif not is_tester_address(m.source_address):
                code = ROUTING_UNKNOWN_SOURCE
            elif m.activation_type not in ACTIVATION_TYPES:
                code = ROUTING_UNSUPPORTED_TYPE
            elif self.faults.routing_refusal is not None:
                code = self.faults.routing_refusal
            if code == ROUTING_SUCCESS:
                client.tester = m.source_address
            client.send(RoutingActivationResponse(m.source_address, self.address, code))
        elif isinstance(m, DiagnosticMessage):
            self._diagnostic(client, m)
        elif isinstance(m, AliveCheckRequest):
            client.send(AliveCheckResponse(self.address))
        elif isinstance(m, VehicleIdentificationRequest):
            client.send(self.identity())
        elif isinstance(m, ReservedMessage):
            client.send(GenericDoIPNegativeAcknowledge(GENERIC_UNKNOWN_PAYLOAD_TYPE))

    def _diagnostic(self, client: _Client, m: DiagnosticMessage) -> None:
        source, target = m.source_address, m.target_address
        if client.tester is None or source != client.tester:
            client.send(DiagnosticMessageNegativeAcknowledgement(target, source,
                                                                 NACK_INVALID_SOURCE))
            return
        payload = bytes(m.user_data)
        if self.faults.should_reset(payload):
            _reset(client.sock)
            raise ConnectionResetError("simulated gateway fault: TCP reset")
        if target == self.functional_address:
            self._functional(client, m)
            return
        link = self._links.get(target)
        if link is None or target in self.faults.unknown_targets:
            client.send(DiagnosticMessageNegativeAcknowledgement(target, source,
                                                                 NACK_UNKNOWN_TARGET))
            return
        if self.faults.take_out_of_memory(target):
            client.send(DiagnosticMessageNegativeAcknowledgement(target, source,
                                                                 NACK_OUT_OF_MEMORY))
            return
        self._owner[target] = client
        # ACK at reception, as gateways do: the message is accepted for routing to CAN,
        # where it waits its turn in that ECU's transmit queue while the next message from
        # the tester, perhaps to another ECU, is read. A send that fails: no answer then,
        # and the tester's P2 ends.
        client.send(DiagnosticMessagePositiveAcknowledgement(target, source, 0x00))
        link.send(payload)

    def _functional(self, client: _Client, m: DiagnosticMessage) -> None:
        """To every ECU at once: one functional single frame on the CAN side; each ECU's
        answer comes back from its own address."""
        payload, source = bytes(m.user_data), m.source_address
        definition = self.vehicle.definition
        fd = definition.fd
        if len(payload) > (62 if fd else 7):  # a functional request is one single frame
            client.send(DiagnosticMessageNegativeAcknowledgement(m.target_address, source,
                                                                 NACK_TOO_LARGE))
            return
        for address in self._links:
            self._owner[address] = client
        client.send(DiagnosticMessagePositiveAcknowledgement(m.target_address, source, 0x00))
        for ecu in self._native:
            ecu.submit_functional(payload)
        extended = definition.addressing == ADDRESSING_29BIT_FIXED
        with contextlib.suppress(Exception):  # a bus fault: no ECU answers, the tester says so
            self._endpoint.bus.send(functional_message(definition.functional_id, extended,
                                                       payload, fd))

    def restart(self) -> None:
        """A gateway reboot: every tester's connection is closed; new ones are taken."""
        self._owner.clear()
        for client in list(self._clients):
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)

    def _answerer(self, address: int) -> Callable[[bytes], None]:
        """What the link to the ECU at `address` calls with each of its answers (from the
        link's own thread): the answer, to the tester that last sent to that ECU."""

        def answer(data: bytes) -> None:
            if not self._running.is_set():
                return
            if self.faults.answer_delay_s:
                time.sleep(self.faults.answer_delay_s)
            client = self._owner.get(address)
            if client is not None and client.tester is not None:
                client.send(DiagnosticMessage(address, client.tester, data))

        return answer

    def shutdown(self) -> None:
        if not self._running.is_set():
            return
        self._running.clear()
        self._stopping.set()
        for s in (self._tcp, self._udp, *([self._tls_tcp] if self._tls_tcp else [])):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        for client in list(self._clients):
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)
        for t in self._threads:
            t.join(timeout=1.0)
        for link in self._links.values():
            link.close()
        self._endpoint.close()

    def __enter__(self) -> DoipGateway:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()


def _reset(sock: socket.socket | TlsChannel) -> None:
    """Close with an RST, not a FIN: what a tester sees when the gateway reboots."""
    if isinstance(sock, TlsChannel):
        sock = sock.sock
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
