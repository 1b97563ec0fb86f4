"""A UDS session with one ECU: udsoncan over a routed ISO-TP link, with typed errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import can
import udsoncan
from udsoncan import Request, services
from udsoncan.client import Client
from udsoncan.connections import PythonIsoTpConnection
from udsoncan.exceptions import (
    InvalidResponseException,
    NegativeResponseException,
    TimeoutException,
    UnexpectedResponseException,
)

from workshop.transport.errors import BusOffError, TransportError
from workshop.transport.isotp_link import LinkAddress, LinkParams, open_link
from workshop.transport.router import BusEndpoint
from workshop.uds import seedkey
from workshop.uds.dtc import DEFAULT_STATUS_MASK
from workshop.uds.dtc_records import Dtc, parse_dtc_list, parse_extended, parse_snapshots
from workshop.uds.errors import (
    EcuTimeoutError,
    InvalidResponseError,
    NegativeResponseError,
    UdsError,
)
from workshop.uds.identity import SCAN_DIDS, EcuIdentity, decode_did_value

T = TypeVar("T")
DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION = 1, 2, 3


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
    seed_key: str = "demo-xor"
    p2_timeout_s: float = 1.0
    snapshot_did_sizes: tuple[tuple[int, int], ...] = ()


class EcuClient:
    """Open with `with EcuClient(endpoint, target) as ecu:`; every call is one UDS exchange."""

    def __init__(self, endpoint: BusEndpoint, target: EcuTarget) -> None:
        self.target = target
        self._link = open_link(endpoint, target.address, target.params)
        self._conn = PythonIsoTpConnection(self._link)
        config = dict(udsoncan.configs.default_client_config)
        config.update(data_identifiers={"default": _RawDid()}, p2_timeout=target.p2_timeout_s,
                      p2_star_timeout=5.0, request_timeout=30.0, use_server_timing=False,
                      exception_on_unexpected_response=True)
        self._client = Client(self._conn, config=config)  # type: ignore[arg-type]
        self._keepalive: threading.Thread | None = None
        self._keepalive_stop = threading.Event()
        self._lock = threading.RLock()

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
        name, addr = self.target.name, self.target.address.describe()
        with self._lock:
            try:
                return fn()
            except NegativeResponseException as exc:
                raise NegativeResponseError(name, service, sid, exc.response.code or 0) from exc
            except TimeoutException as exc:
                if self._link.tx_error is not None:
                    raise BusOffError(f"the adapter cannot transmit: {self._link.tx_error}",
                                      hint="check wiring, termination (60 ohm) and the "
                                           "bitrate") from exc
                raise EcuTimeoutError(name, addr, service) from exc
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

    def _raw(self, service: str, sid: int, subfunction: int | None, data: bytes) -> bytes:
        """Send a request udsoncan has no helper for; return the positive response payload."""
        req = Request(service=getattr(services, service), subfunction=subfunction, data=data)
        resp = self._call(service, sid, lambda: self._client.send_request(req))
        if resp is None:  # only with suppress-positive-response, which we do not ask for
            return b""
        return bytes(resp.data or b"")

    # -- sessions, keep-alive, security ----------------------------------------------------

    def change_session(self, session: int) -> None:
        self._call("DiagnosticSessionControl", 0x10,
                   lambda: self._client.change_session(session))
        if session == DEFAULT_SESSION:
            self._stop_keepalive()
        else:
            self._start_keepalive()

    def tester_present(self, suppress: bool = False) -> None:
        with self._client.suppress_positive_response(wait_nrc=False) if suppress else _null():
            self._call("TesterPresent", 0x3E, self._client.tester_present)

    def _start_keepalive(self, period_s: float = 2.0) -> None:
        if self._keepalive is not None:
            return
        self._keepalive_stop.clear()

        def run() -> None:
            while not self._keepalive_stop.wait(period_s):
                try:
                    self.tester_present(suppress=True)
                except UdsError:
                    continue

        self._keepalive = threading.Thread(target=run, name=f"keepalive-{self.target.name}",
                                           daemon=True)
        self._keepalive.start()

    def _stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive_stop.set()
            self._keepalive.join(timeout=5)
            self._keepalive = None

    def unlock(self, level: int = 1) -> None:
        """Security access at `level` (odd: requestSeed), key from the ECU's named algorithm."""
        algo = seedkey.algorithm(self.target.seed_key)
        resp = self._call("SecurityAccess", 0x27,
                          lambda: self._client.request_seed(level))
        seed = bytes(resp.service_data.seed)
        if not any(seed):
            return  # already unlocked
        key = algo(seed, level)
        self._call("SecurityAccess", 0x27, lambda: self._client.send_key(level + 1, key))

    # -- data --------------------------------------------------------------------------------

    def read_did(self, did: int) -> bytes:
        resp = self._call("ReadDataByIdentifier", 0x22,
                          lambda: self._client.read_data_by_identifier([did]))
        return bytes(resp.service_data.values[did])

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
                identity.values[did] = decode_did_value(self.read_did(did))
            except NegativeResponseError as exc:
                if exc.nrc != 0x31:
                    identity.refused(did, exc.nrc)
        return identity

    def routine(self, routine_id: int, control: int = 1, data: bytes = b"") -> bytes:
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

    # -- DTCs --------------------------------------------------------------------------------

    def read_dtcs(self, mask: int = DEFAULT_STATUS_MASK, details: bool = True) -> list[Dtc]:
        payload = self._raw("ReadDTCInformation", 0x19, 0x02, bytes([mask]))
        dtcs = [Dtc(dtc, status) for dtc, status in parse_dtc_list(payload[2:])]
        if details:
            for dtc in dtcs:
                self._read_records(dtc)
        return dtcs

    def count_dtcs(self, mask: int = DEFAULT_STATUS_MASK) -> int:
        payload = self._raw("ReadDTCInformation", 0x19, 0x01, bytes([mask]))
        return int.from_bytes(payload[3:5], "big")

    def supported_dtcs(self) -> list[Dtc]:
        payload = self._raw("ReadDTCInformation", 0x19, 0x0A, b"")
        return [Dtc(dtc, status) for dtc, status in parse_dtc_list(payload[2:])]

    def _read_records(self, dtc: Dtc) -> None:
        key = dtc.dtc.to_bytes(3, "big")
        sizes = dict(self.target.snapshot_did_sizes)
        for sub, record in ((0x04, 0xFF), (0x06, 0xFF)):
            try:
                payload = self._raw("ReadDTCInformation", 0x19, sub, key + bytes([record]))
            except NegativeResponseError as exc:
                if exc.nrc in (0x12, 0x31):  # not supported by this ECU / no such record
                    continue
                raise
            body = payload[5:]  # skip sub-function, DTC (3) and status (1)
            if sub == 0x04:
                dtc.snapshots = parse_snapshots(body, sizes)
            else:
                dtc.extended = parse_extended(body, record)

    def clear_dtcs(self, group: int = 0xFFFFFF) -> None:
        self._call("ClearDiagnosticInformation", 0x14,
                   lambda: self._client.clear_dtc(group))


@contextmanager
def _null() -> Iterator[None]:
    yield
