"""Finding DoIP entities (ISO 13400-2): vehicle announcements a gateway sends when it starts,
and answers to vehicle identification requests, collected into typed results.

The tester listens on one UDP socket; identification requests go from it to the addresses
given (unicast; by default loopback, where the simulated gateway announces itself). Neither
the announcement nor the identification answer says whether the entity takes TLS, so each
one found is asked once on its TLS port (a TCP connect, closed at once).

`identify` and `entity_status` ask one given address directly (UDP, never a broadcast).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from doipclient.messages import (
    DoipEntityStatusRequest,
    EntityStatusResponse,
    VehicleIdentificationRequest,
    VehicleIdentificationResponse,
)

from workshop.transport.doip import (
    A_DOIP_CTRL_S,
    DoipError,
    Framer,
    offers_tls,
    pack,
    read_messages,
)
from workshop.transport.doip_tls import TLS_PORT

UDP_DISCOVERY = 13400  # ISO 13400-2 UDP_DISCOVERY: announcements and identification


@dataclass(frozen=True)
class DiscoveredEntity:
    vin: str
    logical_address: int
    eid: bytes
    gid: bytes
    ip: str
    port: int  # the entity's DoIP port (the UDP port it answered from)
    tls: bool | None  # whether it takes TLS on the TLS port; None: not asked
    routing_activation_required: bool  # further action 0x10: central security

    @property
    def key(self) -> tuple[str, int, bytes]:
        return self.ip, self.port, self.eid

    def describe(self) -> str:
        tls = {True: "TLS", False: "no TLS", None: "TLS not checked"}[self.tls]
        return (f"VIN {self.vin}, gateway 0x{self.logical_address:04X} at "
                f"{self.ip}:{self.port}, {tls}")


class AnnouncementListener:
    """A UDP socket on `host:port` (0: any free port) collecting announcements and
    identification answers. Bind it before the gateway starts to hear its announcements."""

    def __init__(self, host: str = "127.0.0.1", port: int = UDP_DISCOVERY) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self.port = self._sock.getsockname()[1]
        self._parser = Framer()
        self.found: dict[tuple[str, int, bytes], DiscoveredEntity] = {}

    def request_identification(self, host: str, port: int = UDP_DISCOVERY) -> None:
        self._sock.sendto(pack(VehicleIdentificationRequest()), (host, port))

    def collect(self, timeout_s: float, *, expect: int | None = None,
                tls_port: int | None = TLS_PORT) -> list[DiscoveredEntity]:
        """Everything heard until `timeout_s` passed (or `expect` entities were found)."""
        deadline = time.monotonic() + timeout_s
        while expect is None or len(self.found) < expect:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._sock.settimeout(remaining)
            try:
                data, (ip, port) = self._sock.recvfrom(4096)
            except TimeoutError:
                break
            for m in read_messages(self._parser, data):
                if isinstance(m, VehicleIdentificationResponse):
                    self._add(m, ip, port, tls_port)
        return list(self.found.values())

    def _add(self, m: VehicleIdentificationResponse, ip: str, port: int,
             tls_port: int | None) -> None:
        key = (ip, port, bytes(m.eid))
        if key in self.found:
            return
        vin = str(m.vin).rstrip("\x00")
        tls = offers_tls(ip, tls_port) if tls_port is not None else None
        self.found[key] = DiscoveredEntity(vin, int(m.logical_address), bytes(m.eid),
                                           bytes(m.gid), ip, port, tls,
                                           m.further_action_required == 0x10)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> AnnouncementListener:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def discover(timeout_s: float, *, hosts: Sequence[str] = ("127.0.0.1",),
             port: int = UDP_DISCOVERY, listen_port: int = 0, expect: int | None = None,
             tls_port: int | None = TLS_PORT) -> list[DiscoveredEntity]:
    """Ask each of `hosts` who it is and collect answers (and announcements) for up to
    `timeout_s`, or until `expect` entities answered."""
    with AnnouncementListener("127.0.0.1" if listen_port == 0 and all(
            h.startswith("127.") for h in hosts) else "0.0.0.0", listen_port) as listener:
        for host in hosts:
            listener.request_identification(host, port)
        return listener.collect(timeout_s, expect=expect, tls_port=tls_port)


@dataclass(frozen=True)
class GatewayIdentity:
    vin: str
    logical_address: int
    eid: bytes
    gid: bytes


def _udp_request(host: str, port: int, request: Any, answer: type, timeout_s: float) -> Any:
    """Send one UDP request to `host` (one address, never a broadcast); its first answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        sock.sendto(pack(request), (host, port))
        parser = Framer()
        while True:
            try:
                data, _ = sock.recvfrom(4096)
            except TimeoutError as exc:
                raise DoipError(f"no DoIP entity answered at {host}:{port}") from exc
            for m in read_messages(parser, data):
                if isinstance(m, answer):
                    return m


def identify(host: str, port: int, timeout_s: float = A_DOIP_CTRL_S) -> GatewayIdentity:
    """Vehicle identification request (UDP, to one address): who answers at `host`."""
    m = _udp_request(host, port, VehicleIdentificationRequest(),
                     VehicleIdentificationResponse, timeout_s)
    return GatewayIdentity(str(m.vin), m.logical_address, bytes(m.eid), bytes(m.gid))


@dataclass(frozen=True)
class EntityStatus:
    node_type: int  # 0x00 gateway, 0x01 node
    max_sockets: int
    open_sockets: int
    max_data_size: int | None  # the largest diagnostic message it takes, if it says


def entity_status(host: str, port: int, timeout_s: float = A_DOIP_CTRL_S) -> EntityStatus:
    """DoIP entity status request (UDP): how many TCP sockets it takes and has open."""
    m = _udp_request(host, port, DoipEntityStatusRequest(), EntityStatusResponse, timeout_s)
    return EntityStatus(m.node_type, m.max_concurrent_sockets, m.currently_open_sockets,
                        m.max_data_size)
