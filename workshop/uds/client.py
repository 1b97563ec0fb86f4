"""A UDS session with one ECU: udsoncan over a routed ISO-TP link, with typed errors.

Every exchange, keep-alive included, runs under one lock, so a TesterPresent never lands in
the middle of another request. Timing follows ISO 14229-2: wait P2 for the first answer,
then P2* after each 0x78 (response pending), with both taken from the ECU's 0x10 answer;
there is no overall cap unless the operation sets one (`operation_timeout`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import can
import udsoncan
from udsoncan import Request, Response
from udsoncan.exceptions import (
    InvalidResponseException,
    NegativeResponseException,
    TimeoutException,
    UnexpectedResponseException,
)

from workshop.foundation.events import EventSink, LinkProblem, ignore_events
from workshop.transport.doip import DoipConnection, DoipLink
from workshop.transport.errors import BusOffError, TransportError
from workshop.transport.isotp_link import LinkAddress, LinkParams, open_link
from workshop.transport.router import BusEndpoint, LinkInUseError
from workshop.uds import seedkey
from workshop.uds.doip import DoipUdsConnection
from workshop.uds.dtc_services import DtcServices
from workshop.uds.errors import (
    EcuTimeoutError,
    InvalidResponseError,
    NegativeResponseError,
    SecurityAccessError,
    UdsError,
)
from workshop.uds.identity import SCAN_DIDS, EcuIdentity, decode_did_value
from workshop.uds.programming import ProgrammingServices
from workshop.uds.timing import (
    DEFAULT_P2_STAR_S,
    OperationTimeout,
    TimedClient,
)

T = TypeVar("T")
DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION = 1, 2, 3
KEEPALIVE_PERIOD_S = 2.0
log = logging.getLogger(__name__)


class _RawDid(udsoncan.DidCodec):  # type: ignore[misc]
    """Any length: the value is the rest of the response (one DID per request)."""


    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, payload: bytes) -> bytes:
        return bytes(payload)

    def __len__(self) -> int:
        raise udsoncan.DidCodec.ReadAllRemainingData


@dataclass(frozen=True)
class EcuTarget:
    """What a client needs to reach one ECU."""

    name: str
    address: LinkAddress
    params: LinkParams = LinkParams()  # noqa: RUF009 - frozen, so sharing it is safe
    seed_key: str | None = None  # no default: see workshop.uds.seedkey
    p2_timeout_s: float = 1.0  # lower bound for P2: shorter ECU figures do not shorten it
    snapshot_did_sizes: tuple[tuple[int, int], ...] = ()
    dtc_format: int | None = None  # ISO 14229-1 DTCFormatIdentifier; None: ask the ECU
    doip_address: int | None = None  # logical address behind a DoIP gateway, if reached so


class OperationTimeoutError(EcuTimeoutError):
    """The ECU kept working (0x78) past the overall limit the operation set."""

    def __init__(self, ecu: str, address: str, service: str, limit_s: float,
                 pending: bool) -> None:
        self.ecu, self.address, self.service, self.limit_s = ecu, address, service, limit_s
        still = " (it was still answering 'response pending')" if pending else ""
        UdsError.__init__(
            self, f"{ecu} ({address}) did not finish {service} within the operation's "
                  f"limit of {limit_s:g} s{still}",
            hint="the ECU is still working; give the operation a longer limit if its "
                 "documentation allows, then check the ECU's state before repeating")


class EcuClient(DtcServices, ProgrammingServices):
    """Open with `with EcuClient(endpoint, target) as ecu:`; every call is one UDS exchange."""

    def __init__(self, endpoint: BusEndpoint | DoipConnection, target: EcuTarget, *,
                 events: EventSink | None = None,
                 keepalive_period_s: float = KEEPALIVE_PERIOD_S) -> None:
        """`endpoint`: the CAN bus, or a DoIP connection to the vehicle's gateway (then
        `target.doip_address` says which ECU behind it)."""
        self.target = target
        self.events = events or ignore_events
        self.keepalive_period_s = keepalive_period_s
        self._link: Any
        conn: DoipUdsConnection | None = None
        if isinstance(endpoint, DoipConnection):
            if target.doip_address is None:
                raise TransportError(f"{target.name} has no DoIP logical address",
                                     hint="give the target its address behind the gateway")
            doip_link: DoipLink = endpoint.link(target.doip_address)
            self._link, conn = doip_link, DoipUdsConnection(doip_link)
        else:
            try:
                self._link = open_link(endpoint, target.address, target.params)
            except LinkInUseError as exc:
                raise LinkInUseError(f"{target.name} ({target.address.describe()}) already "
                                     "has a client on this bus", hint=exc.hint) from exc
        config = dict(udsoncan.configs.default_client_config)
        config.update(data_identifiers={"default": _RawDid()}, p2_timeout=target.p2_timeout_s,
                      p2_star_timeout=DEFAULT_P2_STAR_S, request_timeout=None,
                      use_server_timing=False, exception_on_unexpected_response=True)
        self._client = TimedClient(self._link, config, target.p2_timeout_s, self._stale_answer,
                                  conn)
        self._conn = self._client.conn
        self._keepalive: threading.Thread | None = None
        self._keepalive_stop = threading.Event()
        self._lock = threading.RLock()
        self._dtc_format = target.dtc_format
        self._timing_override: tuple[float | None, float | None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> EcuClient:
        self._client.open()
        return self

    def close(self) -> None:
        self._stop_keepalive()
        if self._conn.is_open():
            self._client.close()
        self._link.close()

    def __enter__(self) -> EcuClient:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- error translation ---------------------------------------------------------------

    def _call(self, service: str, sid: int, fn: Callable[[], T]) -> T:
        name = self.target.name
        with self._lock:
            try:
                return fn()
            except NegativeResponseException as exc:
                raise NegativeResponseError(name, service, sid, exc.response.code or 0) from exc
            except OperationTimeout as exc:
                # the address in words only when it is said (not per 64 KiB block)
                addr = self.target.address.describe()
                raise OperationTimeoutError(name, addr, service, exc.limit_s,
                                            exc.pending) from exc
            except TimeoutException as exc:
                if self._link.tx_error is not None:
                    raise BusOffError(f"the adapter cannot transmit: {self._link.tx_error}",
                                      hint="check wiring, termination (60 ohm) and the "
                                           "bitrate") from exc
                raise EcuTimeoutError(name, self.target.address.describe(), service) from exc
            except (InvalidResponseException, UnexpectedResponseException) as exc:
                raise InvalidResponseError(f"{name} sent an invalid answer to {service}: {exc}",
                                           hint="the ECU may not follow ISO 14229 here; "
                                                "record a trace and report it") from exc
            except can.CanOperationError as exc:
                raise BusOffError(f"the adapter cannot transmit: {exc}",
                                  hint="check wiring, termination (60 ohm) and the bitrate"
                                  ) from exc
            except can.CanError as exc:
                raise TransportError(f"CAN error while talking to {name}: {exc}") from exc

    def _raw(self, service: str, sid: int, subfunction: int | None,
             *data: bytes | memoryview) -> bytes:
        """Send a request udsoncan has no helper for (its data in pieces, sent as they are);
        return the positive response's data after the SID."""
        head = bytes([sid]) if subfunction is None else bytes([sid, subfunction])
        answer = self._call(service, sid, lambda: self._client.exchange_raw(head, *data))
        return answer[1:]

    # -- sessions, keep-alive, security ----------------------------------------------------

    def change_session(self, session: int) -> None:
        resp = self._call("DiagnosticSessionControl", 0x10,
                          lambda: self._client.change_session(session))
        # P2 in ms and P2* in 10 ms units (ISO 14229-1), parsed by udsoncan into seconds.
        data = getattr(resp, "service_data", None)
        p2 = getattr(data, "p2_server_max", None)
        p2_star = getattr(data, "p2_star_server_max", None)
        if self._timing_override is not None:  # the ECU's documented figures win
            p2 = self._timing_override[0] if self._timing_override[0] is not None else p2
            p2_star = (self._timing_override[1] if self._timing_override[1] is not None
                       else p2_star)
        self._client.use_server_timing(p2, p2_star)
        if session == DEFAULT_SESSION:
            self._stop_keepalive()
        else:
            self._start_keepalive()

    def override_timing(self, p2_s: float | None, p2_star_s: float | None) -> None:
        """Use these P2 / P2* (from the ECU's documentation) instead of what its 0x10 answer
        says, from now on; None keeps the ECU's own figure."""
        self._timing_override = (p2_s, p2_star_s)
        self._client.use_server_timing(p2_s, p2_star_s)

    @property
    def timing(self) -> tuple[float, float]:
        """(P2, P2*) in seconds this client waits, margin included."""
        return self._client.p2_s, self._client.p2_star_s

    @contextmanager
    def operation_timeout(self, seconds: float | None) -> Iterator[None]:
        """Overall limit for this thread's requests inside, however long the ECU keeps
        sending 0x78. Nested limits only shorten; None adds none.

        Outside any block there is no overall limit: each wait is still bounded by P2 / P2*,
        so only an ECU that keeps answering 0x78 in time is waited for.
        """
        saved = self._client.deadline
        if seconds is not None:
            end = time.monotonic() + seconds
            if saved is None or end < saved[0]:
                self._client.deadline = (end, seconds)
        try:
            yield
        finally:
            self._client.deadline = saved

    def tester_present(self, suppress: bool = False) -> None:
        """TesterPresent; with `suppress` (0x3E 0x80) nothing is awaited: a late refusal is
        reported as a keep-alive problem when it arrives."""
        if not suppress:
            self._call("TesterPresent", 0x3E, self._client.tester_present)
            return
        with self._lock:
            try:
                self._link.send_single_frame(b"\x3e\x80")
            except can.CanOperationError as exc:
                raise BusOffError(f"the adapter cannot transmit: {exc}",
                                  hint="check wiring, termination (60 ohm) and the "
                                       "bitrate") from exc
            except can.CanError as exc:
                raise TransportError(f"CAN error while talking to {self.target.name}: {exc}"
                                     ) from exc

    def _stale_answer(self, response: Response) -> None:
        """A late answer to an earlier request, skipped by the client: logged, and reported
        when it is a refusal (a positive answer to a functional TesterPresent is routine)."""
        sid = response.service.request_id() if response.service is not None else 0
        if response.positive:
            log.log(logging.DEBUG if sid == 0x3E else logging.INFO,
                    "%s: late positive answer to service 0x%02X skipped", self.target.name, sid)
            return
        nrc = f"NRC 0x{response.code or 0:02X} {response.code_name}"
        if sid == 0x3E:
            message = f"{self.target.name} refused TesterPresent (0x3E): {nrc}"
        else:
            message = (f"{self.target.name} sent a late answer to service 0x{sid:02X} ({nrc}); "
                       "skipped, not taken as the answer to the request in progress")
        log.warning("%s", message)
        self._report(message, task="keepalive" if sid == 0x3E else "late answer")

    def _report(self, message: str, task: str = "keepalive") -> None:
        with suppress(Exception):  # a failing sink must not end the keep-alive
            self.events(LinkProblem(task=task, ecu=self.target.name, message=message))

    def _start_keepalive(self, period_s: float | None = None) -> None:
        period = self.keepalive_period_s if period_s is None else period_s
        if self._keepalive is not None or period <= 0:  # 0: kept alive functionally
            return
        # One stop event per thread: a thread still waiting for the lock after a stop
        # (a long request holds it) must not be revived by the next start.
        stop = self._keepalive_stop = threading.Event()

        def run() -> None:
            while not stop.wait(period):
                with self._lock:
                    if stop.is_set():
                        return
                    try:
                        self.tester_present(suppress=True)
                    except Exception as exc:  # report it, and keep the session alive
                        self._report(str(exc))

        self._keepalive = threading.Thread(target=run, name=f"keepalive-{self.target.name}",
                                           daemon=True)
        self._keepalive.start()

    def _stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive_stop.set()
            if self._keepalive is not threading.current_thread():
                self._keepalive.join(timeout=5)
            self._keepalive = None

    def unlock(self, level: int = 1, algorithm: str | None = None) -> None:
        """Security access at `level` (odd: requestSeed), key from `algorithm` or else the
        ECU's configured one; ConfigError before anything is sent when there is none."""
        name, spec = self.target.name, algorithm or self.target.seed_key
        algo = seedkey.algorithm(spec, name)
        resp = self._call("SecurityAccess", 0x27,
                          lambda: self._client.request_seed(level))
        seed = bytes(resp.service_data.seed)
        if not any(seed):
            return  # already unlocked
        try:
            key = algo(seed, level)
        except Exception as exc:  # a plugin's own failure, whatever its type
            raise SecurityAccessError(f"{name}: seed/key algorithm {spec!r} failed: {exc!r}",
                                      hint="fix or replace the algorithm plugin") from exc
        if not isinstance(key, bytes | bytearray) or not key:
            raise SecurityAccessError(f"{name}: seed/key algorithm {spec!r} returned "
                                      f"{type(key).__name__}, not key bytes",
                                      hint="the algorithm must return the key as bytes")
        self._call("SecurityAccess", 0x27, lambda: self._client.send_key(level + 1, bytes(key)))

    # -- data --------------------------------------------------------------------------------

    def read_did(self, did: int) -> bytes:
        resp = self._call("ReadDataByIdentifier", 0x22,
                          lambda: self._client.read_data_by_identifier([did]))
        return bytes(resp.service_data.values[did])

    def request(self, payload: bytes) -> bytes:
        """One request as a description encodes it (ODX variant identification): the ECU's
        whole answer, a negative one as 7F SID NRC; no answer raises as any service does."""
        req = Request.from_payload(payload)
        sid = payload[0] if payload else 0
        service = req.service.get_name() if req.service is not None else f"0x{sid:02X}"
        try:
            resp = self._call(service, sid, lambda: self._client.send_request(req))
        except NegativeResponseError as exc:
            return bytes([0x7F, sid, exc.nrc])
        return resp.get_payload() if resp is not None else b""

    def read_dids_raw(self, dids: tuple[int, ...]) -> bytes:
        """One 0x22 request for several DIDs; the answer's records (DID, data, ...) as sent:
        the data lengths are for the caller's descriptions to know."""
        request = b"".join(did.to_bytes(2, "big") for did in dids)
        return self._raw("ReadDataByIdentifier", 0x22, None, request)

    def write_did(self, did: int, value: bytes) -> None:
        self._call("WriteDataByIdentifier", 0x2E,
                   lambda: self._client.write_data_by_identifier(did, value))

    def read_identity(self, dids: tuple[int, ...] = SCAN_DIDS) -> EcuIdentity:
        """Each DID on its own: any ECU can answer that without a description of lengths.

        A refused DID is listed in `failed` with its NRC and the others are still read
        (0x31 just means this ECU does not have it); no answer at all still raises."""
        identity = EcuIdentity()
        for did in dids:
            try:
                raw = self.read_did(did)
                identity.values[did] = decode_did_value(raw)
                identity.raw[did] = raw
            except NegativeResponseError as exc:
                if exc.nrc != 0x31:
                    identity.refused(did, exc.nrc)
        return identity

    def routine(self, routine_id: int, control: int = 1, data: bytes = b"", *,
                timeout_s: float | None = None) -> bytes:
        """Routine control; `timeout_s` caps the whole exchange (0x78 answers included)."""
        with self.operation_timeout(timeout_s):
            resp = self._call("RoutineControl", 0x31, lambda: self._client.routine_control(
                routine_id, control, data or None))
        return bytes(resp.data)

    def communication_control(self, control: int, comm_type: int = 0x01) -> None:
        self._call("CommunicationControl", 0x28,
                   lambda: self._client.communication_control(control, comm_type))

    def control_dtc_setting(self, on: bool) -> None:
        self._call("ControlDTCSetting", 0x85,
                   lambda: self._client.control_dtc_setting(1 if on else 2))

    def reset(self, kind: int = 1) -> None:
        self._call("ECUReset", 0x11, lambda: self._client.ecu_reset(kind))
        self._stop_keepalive()

    # -- DTCs (reading: DtcServices) -----------------------------------------------------

    def clear_dtcs(self, group: int = 0xFFFFFF) -> None:
        self._call("ClearDiagnosticInformation", 0x14,
                   lambda: self._client.clear_dtc(group))

