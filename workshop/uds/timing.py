"""ISO 14229-2 timing on top of udsoncan's client: P2 for the first answer, P2* after each
0x78 (response pending), both from the ECU's 0x10 answer; no overall cap unless the
operation sets one; an answer to another service (a late refusal of a suppressed keep-alive
or of a functional request, which ISO 14229-1 still allows) is reported and skipped, never
taken for the answer to the request in progress."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from udsoncan import Request, Response
from udsoncan.client import Client
from udsoncan.connections import BaseConnection, PythonIsoTpConnection
from udsoncan.exceptions import (
    InvalidResponseException,
    NegativeResponseException,
    TimeoutException,
)

from workshop.transport.confirmation import ConfirmingLink, SendNotConfirmedError
from workshop.uds.responses import parse_response

RESPONSE_PENDING = 0x78
# ISO 14229-2 default P2*server_max, used until the ECU's 0x10 answer gives its own.
DEFAULT_P2_STAR_S = 5.0
# Added to the ECU's P2/P2*: frames in flight and the tester's own scheduling (a PC, not
# an RTOS) take time the ECU's figures do not include.
TIMING_MARGIN_S = 0.25


class OperationTimeout(TimeoutException):  # type: ignore[misc]
    def __init__(self, limit_s: float, pending: bool) -> None:
        super().__init__(f"operation limit of {limit_s:g} s reached")
        self.limit_s, self.pending = limit_s, pending


class TimedClient(Client):  # type: ignore[misc]
    """udsoncan's client with the ISO 14229-2 timing described in the module docstring.

    udsoncan's own `send_request` has a fixed overall timeout and raises on an answer to
    another service; here any answer to another service (e.g. `7F 28 22` after a functional
    `28 81 01`) is handed to `on_stale` and skipped without restarting P2, so it can never
    be taken for the answer to the request in progress.
    """

    def __init__(self, link: ConfirmingLink, config: dict[str, Any], p2_floor_s: float,
                 on_stale: Callable[[Response], None], conn: BaseConnection | None = None
                 ) -> None:
        """`link` sends with transmit confirmation and receives; `conn` is udsoncan's
        connection over it (default: can-isotp's, for a RoutedLink)."""
        self.link = link
        conn = conn or PythonIsoTpConnection(link)  # type: ignore[arg-type]
        super().__init__(conn, config=config)  # type: ignore[arg-type]
        self.p2_floor_s = p2_floor_s
        self.p2_s = p2_floor_s
        self.p2_star_s = DEFAULT_P2_STAR_S + TIMING_MARGIN_S
        self._local = threading.local()  # each thread's own operation limit
        self.on_stale = on_stale

    @property
    def deadline(self) -> tuple[float, float] | None:
        """(monotonic end, limit in s) of the calling thread's operation, if it set one."""
        value: tuple[float, float] | None = getattr(self._local, "deadline", None)
        return value

    @deadline.setter
    def deadline(self, value: tuple[float, float] | None) -> None:
        self._local.deadline = value

    def use_server_timing(self, p2_server_s: float | None, p2_star_server_s: float | None
                          ) -> None:
        if p2_server_s is not None:
            self.p2_s = max(self.p2_floor_s, p2_server_s + TIMING_MARGIN_S)
        if p2_star_server_s is not None:
            self.p2_star_s = p2_star_server_s + TIMING_MARGIN_S

    def send_request(self, request: Request, timeout: float = -1) -> Response | None:
        if request.service is None:
            raise ValueError("Request has no service")
        spr_flag = self.suppress_positive_response.enabled and request.service.use_subfunction()
        payload = request.get_payload(suppress_positive_response=spr_flag)
        if self.payload_override.enabled:
            payload = self.payload_override.get_overrided_payload(payload)
        spr_used = bool(request.suppress_positive_response or spr_flag)
        spr = self.suppress_positive_response
        wait_nrc = spr.enabled and spr.wait_nrc
        self._send(payload)
        if spr_used and not wait_nrc:
            return None
        answer = self._answer(request.service.request_id(), timeout, quiet_ok=spr_used)
        if answer is None or spr_used:
            return None
        response = parse_response(answer)
        response.original_request = request
        return response

    def exchange_raw(self, *parts: bytes | memoryview, timeout: float = -1) -> bytes:
        """The request given as its bytes (SID first, in pieces that are sent as they are,
        not joined: a 64 KiB TransferData block is not copied), with send_request's timing
        and stale-answer handling; the whole positive answer. No udsoncan Request or
        Response is made for it: over DoIP they were a fifth of a block's round trip."""
        self._send(*parts)
        answer = self._answer(parts[0][0], timeout, quiet_ok=False)
        assert answer is not None  # only a suppressed positive answer can be silence
        return answer

    def _send(self, *parts: bytes | memoryview) -> None:
        self.conn.check_connection_opened()
        self._discard_stale()
        try:
            # ISO 14229-2: P2 runs from the transmit confirmation, not from the queueing.
            # udsoncan's connection logs what it sends; this path bypasses it, so say it here
            # (a --log-file bug report must carry the bytes); hex only when someone logs it:
            # every TransferData block passes here
            if self.conn.logger.isEnabledFor(logging.DEBUG):
                sent = b"".join(parts)
                self.conn.logger.debug("Sending %d bytes : [%s]", len(sent), sent.hex())
            self.link.send_confirmed(*parts)
        except SendNotConfirmedError as exc:
            raise TimeoutException(str(exc)) from exc

    def _answer(self, sid: int, timeout: float, quiet_ok: bool) -> bytes | None:
        """The positive answer to request `sid` (None: silence where that is success);
        NegativeResponseException for a refusal; answers to other services go to
        `on_stale` and P2 keeps running: a stray answer is no answer."""
        wait_s = self.p2_s if timeout < 0 else timeout
        end = time.monotonic() + wait_s
        pending = False
        positive = sid + 0x40
        while True:
            answer = self._next_answer(max(end - time.monotonic(), 0.0), wait_s, pending,
                                       quiet_ok=quiet_ok and not pending)
            if answer is None:
                return None
            if answer[0] == positive:
                return answer
            if answer[0] == 0x7F and len(answer) >= 3 and answer[1] == sid:
                if answer[2] == RESPONSE_PENDING:
                    # ISO 14229-2: each 0x78 restarts the wait, now with P2*.
                    pending, wait_s = True, self.p2_star_s
                    end = time.monotonic() + wait_s
                    continue
                raise NegativeResponseException(parse_response(answer))
            response = parse_response(answer)
            if not response.valid:
                raise InvalidResponseException(response)
            self.on_stale(response)

    def _discard_stale(self) -> None:
        """Empty the receive queue before a request, reporting the late answers in it."""
        while self.link.available():
            data = self.link.recv(block=False)
            response = parse_response(bytes(data or b""))
            if response.valid:
                self.on_stale(response)
        self.conn.empty_rxqueue()

    def _next_answer(self, wait_s: float, timer_s: float, pending: bool, quiet_ok: bool
                     ) -> bytes | None:
        """The next answer within `wait_s` (what is left of the P2/P2* timer `timer_s`)."""
        limit_s: float | None = None
        if self.deadline is not None:
            end, limit = self.deadline
            left = end - time.monotonic()
            if left <= wait_s:
                wait_s, limit_s = max(left, 0.0), limit
        try:
            payload = self.conn.wait_frame(timeout=wait_s, exception=True)
        except TimeoutException:
            payload = None
        if payload is None:
            if quiet_ok:
                return None  # suppressed positive answer: silence is success
            if limit_s is not None:
                raise OperationTimeout(limit_s, pending)
            raise TimeoutException(f"no answer within {'P2*' if pending else 'P2'} "
                                   f"({timer_s:.3f} s)")
        if not payload:
            raise InvalidResponseException(parse_response(b""))
        return payload if isinstance(payload, bytes) else bytes(payload)
