"""Diagnostics over IP (ISO 13400-2): one TCP connection to a DoIP gateway, several ECUs.

doipclient (jacobschaer/python-doipclient) is the reference: its message classes and its
stream parser encode and decode every DoIP message here. What its `DoIPClient` lacks, and
this module adds:

- several ECUs behind one TCP connection: whoever reads (the caller waiting for an answer,
  or a background thread while nobody waits; `doip_reception`) routes each diagnostic
  message by its source address to that ECU's link (`DoipConnection.link`), instead of one
  synchronous caller reading whatever comes next;
- the transmit confirmation a UDS client times P2 from (`ConfirmingLink.send_confirmed`):
  on DoIP that is the gateway's diagnostic message positive acknowledgement; a negative one
  is raised as `DiagnosticNackError` with the ISO 13400-2 reason in words;
- TLS (ISO 13400-2:2019) through `doip_tls.TlsChannel`, and a refusal of plain connections
  to gateways that offer TLS;
- every message sent and received as a `DoipTraceEvent` to `observers` (the bus trace).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import ssl
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from doipclient.messages import (
    AliveCheckRequest,
    AliveCheckResponse,
    DiagnosticMessage,
    DiagnosticMessageNegativeAcknowledgement,
    DiagnosticMessagePositiveAcknowledgement,
    GenericDoIPNegativeAcknowledge,
    RoutingActivationRequest,
    RoutingActivationResponse,
)

from workshop.transport.confirmation import SendNotConfirmedError

# the wire codec's names, importable from here as before it had its own module
from workshop.transport.doip_codec import PROTOCOL_VERSION as PROTOCOL_VERSION
from workshop.transport.doip_codec import Framer as Framer
from workshop.transport.doip_codec import diagnostic_head, write_parts
from workshop.transport.doip_codec import pack as pack
from workshop.transport.doip_codec import read_messages as read_messages
from workshop.transport.doip_reception import Inbox, Reception, wait_readable
from workshop.transport.doip_tls import TLS_PORT, TlsChannel, TlsError, explain
from workshop.transport.doip_trace import DoipTraceEvent, TraceObserver
from workshop.transport.errors import TransportError

DEFAULT_TESTER_ADDRESS = 0x0E00  # external test equipment range 0x0E00-0x0FFF
ROUTING_DEFAULT, ROUTING_CENTRAL_SECURITY = 0x00, 0xE1
ROUTING_SUCCESS = 0x10
ROUTING_REQUIRES_TLS = 0x07  # ISO 13400-2:2019
# ISO 13400-2 A_DoIP_Ctrl / A_DoIP_Diagnostic_Message: the gateway's own answer times.
A_DOIP_CTRL_S = 2.0
A_DOIP_DIAGNOSTIC_MESSAGE_S = 2.0

NACK_OUT_OF_MEMORY = 0x05  # the gateway has no room for the message now: worth a retry
DIAGNOSTIC_NACK_REASONS = {
    0x02: "invalid source address",
    0x03: "unknown target address",
    0x04: "diagnostic message too large",
    0x05: "out of memory",
    0x06: "target unreachable",
    0x07: "unknown network",
    0x08: "transport protocol error",
}
GENERIC_NACK_REASONS = {
    0x00: "incorrect pattern format",
    0x01: "unknown payload type",
    0x02: "message too large",
    0x03: "out of memory",
    0x04: "invalid payload length",
}
ROUTING_REFUSALS = {
    0x00: "unknown source address",
    0x01: "all TCP sockets registered and active",
    0x02: "source address differs from the one registered on this socket",
    0x03: "source address already registered on another socket",
    0x04: "missing authentication",
    0x05: "rejected confirmation",
    0x06: "unsupported routing activation type",
    0x07: "TLS required",
}


class DoipError(TransportError):
    """The DoIP gateway refused, reset or did not answer."""


class DiagnosticNackError(DoipError):
    """The gateway refused a diagnostic message (ISO 13400-2 diagnostic message NACK)."""

    def __init__(self, target: int, code: int) -> None:
        self.target, self.code = target, code
        reason = DIAGNOSTIC_NACK_REASONS.get(code, f"reserved code 0x{code:02X}")
        hint = ("check the ECU's logical address in the vehicle definition; the gateway "
                "does not route to it") if code == 0x03 else None
        super().__init__(f"the DoIP gateway refused the message to 0x{target:04X}: {reason} "
                         f"(NACK 0x{code:02X})", hint=hint)


class DoipTlsError(DoipError, TlsError):
    """TLS with the gateway failed: its certificate is not trusted, or it refused ours."""


def tls_failure(exc: ssl.SSLError | OSError, peer: str) -> DoipTlsError:
    if isinstance(exc, ssl.SSLError):
        told = explain(exc, peer)
        return DoipTlsError(told.message, hint=told.hint)
    return DoipTlsError(f"TLS with the DoIP gateway {peer} failed: {exc}",
                        hint="check that the port is the gateway's TLS port (3496)")


def _connect(host: str, port: int) -> socket.socket:
    """The TCP connection, or a DoipError saying in words why there is none."""
    where = f"{host}:{port}"
    try:
        return socket.create_connection((host, port), timeout=A_DOIP_CTRL_S)
    except socket.gaierror as exc:
        raise DoipError(f"cannot find the DoIP gateway {host!r}: no such host name or address",
                        hint="give the gateway's IP address (--host), e.g. 169.254.x.x or "
                             "the vehicle's DHCP address") from exc
    except ConnectionRefusedError as exc:
        raise DoipError(f"the DoIP gateway {where} refused the connection: nothing listens "
                        "on that port", hint="check the port (ISO 13400-2: 13400) and that "
                                             "the ignition is on") from exc
    except TimeoutError as exc:
        raise DoipError(f"no DoIP gateway answered at {where} within {A_DOIP_CTRL_S:g} s",
                        hint="check the Ethernet cable, the activation line and the address"
                        ) from exc
    except OSError as exc:
        raise DoipError(f"cannot connect to the DoIP gateway {where}: "
                        f"{exc.strerror or exc}",
                        hint="check the Ethernet cable and the address") from exc


class DoipLink:
    """The link to one ECU behind the gateway, as a UDS client uses it (ConfirmingLink)."""

    def __init__(self, conn: DoipConnection, target: int) -> None:
        self.conn, self.target = conn, target
        self.rx: Inbox[bytes | DoipError] = conn.reception.inbox()
        self.acks: Inbox[Any] = conn.reception.inbox()
        self.tx_error: Exception | None = None

    def send_confirmed(self, payload: bytes | memoryview, *more: bytes | memoryview) -> None:
        """Send `payload` (+ `more`, one message, not joined); return at the gateway's
        positive ACK, raise DiagnosticNackError at a NACK."""
        if self.conn.error is not None:
            raise self.conn.error  # the connection is gone: say so, not "no answer"
        while not self.acks.empty():
            self.acks.get_nowait()  # an ACK nobody waited for
        self.conn.send_diagnostic(self.target, payload, *more)
        try:
            ack = self.acks.get(timeout=A_DOIP_DIAGNOSTIC_MESSAGE_S)
        except queue.Empty as exc:
            size = len(payload) + sum(len(m) for m in more)
            raise SendNotConfirmedError(
                f"request of {size} bytes to 0x{self.target:04X} not acknowledged "
                "by the DoIP gateway") from exc
        if isinstance(ack, DiagnosticMessageNegativeAcknowledgement):
            raise DiagnosticNackError(self.target, ack.nack_code)
        if isinstance(ack, Exception):
            raise ack

    send_single_frame = send_confirmed  # keep-alive: on DoIP every request is one message

    def available(self) -> bool:
        return not self.rx.empty()

    def recv(self, block: bool = False, timeout: float | None = None) -> bytearray | None:
        try:
            item = self.rx.get(block=block, timeout=timeout if block else None)
        except queue.Empty:
            return None
        if isinstance(item, DoipError):
            raise item
        return bytearray(item)

    def close(self) -> None:
        self.conn.release(self)


def requires_tls_error(host: str, where: str) -> DoipError:
    return DoipError(f"the DoIP gateway at {host} {where}; this tool does not use a plain "
                     "connection to it", hint="connect with TLS (--tls, port 3496): the "
                     "gateway's certificate is checked against the trust store and this "
                     "workstation's identity is shown to it")


def offers_tls(host: str, tls_port: int, timeout_s: float = 0.5) -> bool:
    """Whether something takes TCP connections on the gateway's TLS port."""
    try:
        socket.create_connection((host, tls_port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


class DoipConnection:
    """A TCP connection to a DoIP gateway with routing activated; `link(address)` per ECU.

    With `tls` (a context from workshop.trust.tls) the connection is TLS. Without, it is
    refused when the gateway answers on `tls_port` or asks for TLS at routing activation
    (response 0x07): a plain connection to a gateway that offers TLS is never used.
    """

    def __init__(self, host: str, port: int, *, tester_address: int = DEFAULT_TESTER_ADDRESS,
                 activation_type: int = ROUTING_DEFAULT, tls: ssl.SSLContext | None = None,
                 tls_port: int | None = TLS_PORT,
                 observers: tuple[TraceObserver, ...] = ()) -> None:
        self.host, self.port, self.tester_address = host, port, tester_address
        self.observers: list[TraceObserver] = list(observers)
        if tls is None and tls_port is not None and offers_tls(host, tls_port):
            raise requires_tls_error(host, f"offers TLS on port {tls_port}")
        raw = _connect(host, port)
        raw.settimeout(None)
        # A request, its ACK and the answer are small writes in a row: Nagle's algorithm
        # would hold each behind the peer's delayed ACK (40 ms on Linux) - per block.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock: socket.socket | TlsChannel = raw
        self.tls = tls is not None
        if tls is not None:
            channel = TlsChannel(raw, tls, server_side=False)
            try:
                channel.handshake()
            except OSError as exc:  # ssl.SSLError included
                raw.close()
                raise tls_failure(exc, f"{host}:{port}") from exc
            self._sock = channel
        self._send_lock = threading.Lock()
        self._links: dict[int, DoipLink] = {}
        self._parser = Framer()
        self.reception = Reception(self._read_once, f"doip {host}:{port}")
        self._control: Inbox[Any] = self.reception.inbox()
        self._closed = threading.Event()
        self.error: DoipError | None = None
        self.lost = threading.Event()  # set when the gateway reset or closed the connection
        # Generic header NACKs (ISO 13400-2 table 19), as DoipErrors, for whoever asks.
        self.rejections: queue.SimpleQueue[DoipError] = queue.SimpleQueue()
        # Called with every diagnostic message from the gateway (functional answers, trace).
        self.taps: list[Callable[[Any], None]] = []
        self.reception.start()
        try:
            self._activate(activation_type)
        except BaseException:
            self.close()
            raise

    def _activate(self, activation_type: int) -> None:
        self.send(RoutingActivationRequest(self.tester_address, activation_type))
        try:
            answer = self._control.get(timeout=A_DOIP_CTRL_S)
        except queue.Empty as exc:
            raise DoipError(f"no routing activation answer from {self.host}:{self.port}"
                            ) from exc
        if isinstance(answer, Exception):
            raise answer
        if answer.response_code == ROUTING_REQUIRES_TLS and not self.tls:
            raise requires_tls_error(self.host, "accepts diagnostics over TLS only")
        if answer.response_code != ROUTING_SUCCESS:
            why = ROUTING_REFUSALS.get(answer.response_code, "reserved or OEM-specific code")
            raise DoipError(f"routing activation refused: {why} "
                            f"(0x{answer.response_code:02X})")
        self.gateway_address = answer.logical_address

    def _observe(self, direction: str, message: Any) -> None:
        if self.observers:
            event = DoipTraceEvent.of(direction, message)
            for observer in list(self.observers):
                observer(event)

    def send(self, message: Any) -> None:
        self._observe("tx", message)
        self._write(pack(message))

    def send_diagnostic(self, target: int, *payload: bytes | memoryview) -> None:
        """A diagnostic message to `target`; its payload (in pieces) is written as it is,
        not copied."""
        if self.observers:
            self._observe("tx", DiagnosticMessage(self.tester_address, target,
                                                  b"".join(payload)))
        size = sum(len(p) for p in payload)
        self._write(diagnostic_head(self.tester_address, target, size), *payload)

    def _write(self, *parts: bytes | memoryview) -> None:
        with self._send_lock:
            try:
                if isinstance(self._sock, socket.socket):
                    write_parts(self._sock, parts)
                else:  # TLS: the channel encrypts one buffer
                    self._sock.sendall(b"".join(parts))
            except OSError as exc:
                # the reader knows why (e.g. the gateway's TLS alert): tell that instead
                wait_s = 0.0 if self.reception.ended else A_DOIP_CTRL_S
                self.reception.listen()
                if self.lost.wait(wait_s) and self.error is not None:
                    raise self.error from exc
                raise DoipError(f"DoIP connection to {self.host}:{self.port} lost: {exc}"
                                ) from exc

    def alive_check(self) -> int:
        """Alive check request over this connection; the gateway's logical address."""
        self.send(AliveCheckRequest())
        try:
            answer = self._control.get(timeout=A_DOIP_CTRL_S)
        except queue.Empty as exc:
            raise DoipError(f"no alive check answer from {self.host}:{self.port}") from exc
        if isinstance(answer, Exception):
            raise answer
        return int(answer.source_address)

    def link(self, target: int) -> DoipLink:
        if target in self._links:
            raise DoipError(f"0x{target:04X} already has a client on this DoIP connection")
        link = self._links[target] = DoipLink(self, target)
        return link

    def release(self, link: DoipLink) -> None:
        if self._links.get(link.target) is link:
            del self._links[link.target]

    def _read_once(self, timeout_s: float | None) -> None:
        """Read what arrives within `timeout_s` (None: until something does) and deliver it;
        when the connection ends, every waiter hears why (Reception's `read`)."""
        if self._closed.is_set():
            self.reception.end()
            return
        try:
            if isinstance(self._sock, socket.socket):
                if timeout_s is not None and not wait_readable(self._sock, timeout_s):
                    return
                data = self._sock.recv(65536)
            else:
                data = self._sock.recv(65536, timeout_s)
            if not data:
                raise DoipError(f"the DoIP gateway {self.host}:{self.port} closed the "
                                "connection")
            for m in read_messages(self._parser, data):
                self._observe("rx", m)
                self._dispatch(m)
        except TimeoutError:
            return  # part of a TLS record so far: the rest is read next time
        except (OSError, DoipError) as exc:
            self._fail(exc)
        except ValueError as exc:  # the socket was closed under this read (fd -1)
            self._fail(OSError(str(exc)))

    def _fail(self, exc: OSError | DoipError) -> None:
        if self._closed.is_set() or self.reception.ended:
            self.reception.end()
            return
        if isinstance(exc, ssl.SSLError):  # e.g. TLS 1.3: client certificate refused
            self.error = tls_failure(exc, f"{self.host}:{self.port}")
        else:
            self.error = exc if isinstance(exc, DoipError) else DoipError(
                f"the DoIP gateway {self.host}:{self.port} reset the connection (it "
                "restarted, or the Ethernet link went down)"
                if isinstance(exc, ConnectionResetError) else
                f"DoIP connection to {self.host}:{self.port} lost: {exc}",
                hint="check the cable and the gateway; an interrupted flash is finished "
                     "with 'workshop flash resume'")
        self._control.put(self.error)
        for link in list(self._links.values()):
            link.acks.put(self.error)
            link.rx.put(self.error)  # a client waiting for an answer hears why none comes
        self.lost.set()
        self.reception.end()

    def _dispatch(self, m: Any) -> None:
        if isinstance(m, DiagnosticMessage):
            for tap in list(self.taps):
                tap(m)
            link = self._links.get(m.source_address)
            if link is not None:
                link.rx.put(bytes(m.user_data))
        elif isinstance(m, (DiagnosticMessagePositiveAcknowledgement,
                            DiagnosticMessageNegativeAcknowledgement)):
            link = self._links.get(m.source_address)
            if link is not None:
                link.acks.put(m)
        elif isinstance(m, AliveCheckRequest):
            self.send(AliveCheckResponse(self.tester_address))
        elif isinstance(m, (RoutingActivationResponse, AliveCheckResponse)):
            self._control.put(m)
        elif isinstance(m, GenericDoIPNegativeAcknowledge):
            reason = GENERIC_NACK_REASONS.get(m.nack_code, f"code 0x{m.nack_code:02X}")
            error = DoipError(f"the DoIP gateway rejected a message: {reason} "
                              f"(generic header NACK 0x{m.nack_code:02X})")
            self.rejections.put(error)
            for link in list(self._links.values()):
                link.acks.put(error)  # a send waiting for its ACK gets it instead

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self.reception.end()  # nobody starts another read of the socket
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self.reception.stop()

    def __enter__(self) -> DoipConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
