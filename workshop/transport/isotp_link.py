"""ISO-TP (ISO 15765-2) links over a shared bus, using can-isotp."""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import can
import isotp

from workshop.foundation.addressing import ADDRESSING_11BIT, ADDRESSING_29BIT_FIXED
from workshop.transport.confirmation import N_AS_S, SendNotConfirmedError, confirm_sent
from workshop.transport.router import BusEndpoint

__all__ = ["ADDRESSING_11BIT", "ADDRESSING_29BIT_FIXED", "LinkAddress", "LinkParams", "open_link"]

PADDING = 0xCC


@dataclass(frozen=True)
class LinkAddress:
    """Physical request/response IDs of one ECU plus the functional request ID."""

    addressing: str
    request_id: int
    response_id: int
    functional_id: int

    @property
    def extended_id(self) -> bool:
        return self.addressing == ADDRESSING_29BIT_FIXED

    def describe(self) -> str:
        width = 8 if self.extended_id else 3
        return f"request 0x{self.request_id:0{width}X} / response 0x{self.response_id:0{width}X}"


FD_MAX_MESSAGE = 65535


@dataclass(frozen=True)
class LinkParams:
    fd: bool = False
    stmin_ms: int = 0
    block_size: int = 0
    padding: int | None = PADDING
    rx_timeout_ms: int = 1000

    def as_isotp(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "stmin": self.stmin_ms,
            "blocksize": self.block_size,
            "tx_padding": self.padding,
            "rx_flowcontrol_timeout": self.rx_timeout_ms,
            "rx_consecutive_frame_timeout": self.rx_timeout_ms,
            # CAN FD links carry longer messages (ISO 15765-2:2016 escape sequence): a
            # bootloader with a 16 KiB buffer then takes a block in one TransferData.
            "max_frame_size": FD_MAX_MESSAGE if self.fd else 4095,
            "blocking_send": False,
            "can_fd": self.fd,
            "tx_data_length": 64 if self.fd else 8,
            "tx_data_min_length": 8 if self.padding is not None else None,
            "bitrate_switch": self.fd,
        }
        return params


def isotp_address(addr: LinkAddress, *, server: bool = False) -> isotp.Address:
    """The can-isotp address for the tester side, or the ECU side when `server`."""
    tx, rx = (addr.response_id, addr.request_id) if server else (addr.request_id, addr.response_id)
    if addr.addressing == ADDRESSING_29BIT_FIXED:
        return isotp.Address(isotp.AddressingMode.NormalFixed_29bits,
                             source_address=tx & 0xFF, target_address=(tx >> 8) & 0xFF)
    return isotp.Address(isotp.AddressingMode.Normal_11bits, txid=tx, rxid=rx)


class _Handoff:
    """Stands in for can-isotp's receive queue: each complete message goes to `deliver`
    at once, from the link's own thread, instead of waiting for a reader thread to poll."""

    def __init__(self, deliver: Callable[[bytes], None]) -> None:
        self._deliver = deliver

    def put(self, data: bytearray) -> None:
        self._deliver(bytes(data))

    def empty(self) -> bool:
        return True

    def get(self, block: bool = True, timeout: float | None = None) -> bytearray:
        raise queue.Empty

    def get_nowait(self) -> bytearray:
        raise queue.Empty


class _SendQueue(queue.SimpleQueue):  # type: ignore[type-arg]
    """Unbounded, as can-isotp's own; it asks whether it is full."""

    def full(self) -> bool:
        return False


class _RelayFeed:
    """A link's router subscription: each frame, as can-isotp's message, into its queue."""

    def __init__(self, relay: queue.SimpleQueue[isotp.CanMessage | None]) -> None:
        self._relay = relay

    def put(self, msg: can.Message) -> None:
        self._relay.put(isotp.CanMessage(
            arbitration_id=msg.arbitration_id, data=bytes(msg.data),
            extended_id=msg.is_extended_id, is_fd=msg.is_fd,
            bitrate_switch=msg.bitrate_switch))


class RoutedLink(isotp.TransportLayer):  # type: ignore[misc]
    """An ISO-TP link fed by a FrameRouter queue; `tx` may be swapped (fault injection).

    A tester's link (not `server`) confirms its sends (`send_confirmed`, a ConfirmingLink):
    can-isotp's blocking send, completed here only once the message's last frame has left
    the wire. can-isotp itself completes a send when it hands the last frame to the bus, one
    frame early, and on the simulated wire a frame may wait in the transmit queue; on a real
    adapter, python-can's send returning is the confirmation there is.

    With `deliver`, complete messages are handed to it instead of being read with `recv`
    (the simulator's ECUs and gateway: no thread per link polling for them). `idle_s` is how
    long the link's threads sleep when nothing happens: the simulator's hundreds of links
    would otherwise wake 20 times a second each for nothing. A `queued` link's `send`
    returns at once, as an ECU's does (a gateway forwarding requests).
    """

    def __init__(self, endpoint: BusEndpoint, addr: LinkAddress, params: LinkParams,
                 server: bool, error_handler: Any, *,
                 deliver: Callable[[bytes], None] | None = None, idle_s: float = 0.05,
                 queued: bool = False) -> None:
        self.endpoint = endpoint
        self.tx: Any = endpoint.bus
        self.server = server
        self._isotp_addr = isotp_address(addr, server=server)
        self._rx_key = (self._isotp_addr.get_rx_arbitration_id(), addr.extended_id)
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.tx_error: can.CanOperationError | None = None
        self._unconfirmed: list[Any] = []  # sends whose last frame is about to leave
        isotp_params = params.as_isotp()
        isotp_params["blocking_send"] = not (server or queued)
        super().__init__(rxfn=self._receive, txfn=self._transmit, address=self._isotp_addr,
                         params=isotp_params, error_handler=error_handler, read_timeout=idle_s)
        # can-isotp's queues, in C: its queue.Queue's locking in Python was a fifth of a
        # busy simulator's time.
        relay: queue.SimpleQueue[isotp.CanMessage | None] = queue.SimpleQueue()
        received: Any = queue.SimpleQueue() if deliver is None else _Handoff(deliver)
        self.rx_relay_queue, self.tx_queue, self.rx_queue = relay, _SendQueue(), received  # type: ignore[assignment]
        # Frames go from the bus listener straight to the ISO-TP worker's queue, which
        # can-isotp fills from a relay thread of its own: one thread hand-over less a frame.
        self._rx = endpoint.router.subscribe(*self._rx_key, _RelayFeed(relay))

    def send_confirmed(self, payload: bytes | memoryview, *more: bytes | memoryview) -> None:
        """Send `payload` (+ `more`, one message); return once its last frame has left
        (ISO 15765-2 T_Data.con)."""
        payload = b"".join((payload, *more)) if more else bytes(payload)
        if not self.params.blocking_send:
            raise RuntimeError("this link queues its sends; it has no transmit confirmation")
        size = 64 if self.params.can_fd else 8
        frames = 1 + len(payload) // (size - 1)
        try:
            # Each frame has N_As to leave; the wait for flow control is can-isotp's own.
            self.send(payload, send_timeout=N_AS_S * frames + self.params.rx_flowcontrol_timeout
                      / 1000)
        except isotp.BlockingSendFailure as exc:
            self.stop_sending()  # a send that timed out must not go out later
            why = f"the adapter cannot transmit: {self.tx_error}" if self.tx_error else (
                "no flow control from the receiver, or the link stopped")
            raise SendNotConfirmedError(f"request of {len(payload)} bytes not sent: {why}"
                                        ) from exc

    def _stop_sending(self, success: bool) -> None:
        request = self.active_send_request
        if success and request is not None:
            # The last frame is handed out with this call: complete after it has left.
            self._unconfirmed.append(request)
            self.active_send_request = None
        super()._stop_sending(success)

    def _process_tx(self) -> Any:
        report = super()._process_tx()
        if report.msg is None and self._unconfirmed:
            self._confirm()  # its last frame left in an earlier pass
        return report

    def _confirm(self) -> None:
        sent = self.tx_error is None
        if sent and self.params.blocking_send:  # nobody waits on a queued send
            confirm_sent(self.endpoint.bus)
        done, self._unconfirmed = self._unconfirmed, []
        for request in done:
            request.complete(sent)

    def _receive(self, timeout: float) -> None:
        """can-isotp's relay thread reads here; the frames reach its queue without it
        (`_RelayFeed`), so it only waits, to be woken by stop()."""
        with contextlib.suppress(queue.Empty):
            self._wake.get(timeout=timeout)

    def _transmit(self, msg: isotp.CanMessage) -> None:
        try:
            self._transmit_frame(msg)
            self.tx_error = None
        except can.CanOperationError as exc:
            # Raised here it would kill the ISO-TP worker thread and the caller would only see
            # a timeout; keep it for the caller to report.
            self.tx_error = exc
        if self._unconfirmed:
            self._confirm()

    def _transmit_frame(self, msg: isotp.CanMessage) -> None:
        frame = can.Message(arbitration_id=msg.arbitration_id, data=msg.data,
                            is_extended_id=msg.is_extended_id, is_fd=msg.is_fd,
                            bitrate_switch=msg.bitrate_switch, timestamp=time.time())
        self.tx.send(frame)
        self.endpoint.router.sent(frame)

    def send_single_frame(self, payload: bytes) -> None:
        """Send a request that fits one frame now, from the calling thread.

        For keep-alive: unlike `send`, which queues for the ISO-TP worker, a failure to
        transmit (can.CanOperationError, e.g. bus-off) is raised to the caller here.
        """
        fd = bool(self.params.can_fd)
        self.tx.send(can.Message(
            arbitration_id=self._isotp_addr.get_tx_arbitration_id(isotp.TargetAddressType.Physical),
            is_extended_id=self._isotp_addr.is_tx_29bits(), is_fd=fd, bitrate_switch=fd,
            data=single_frame(payload, fd, self.params.tx_padding)))

    # Each wakes the threads first: they may sleep `idle_s` before looking at the request.
    def stop(self) -> None:
        self._wake.put(None)
        super().stop()

    def stop_sending(self) -> None:
        self.rx_relay_queue.put(None)
        super().stop_sending()

    def stop_receiving(self) -> None:
        self.rx_relay_queue.put(None)
        super().stop_receiving()

    def close(self) -> None:
        """Stop the link (if still running) and stop routing its frames; safe to call twice."""
        if self.started:
            self.stop()
        self.endpoint.router.unsubscribe(*self._rx_key, self._rx)


def open_link(endpoint: BusEndpoint, addr: LinkAddress, params: LinkParams, *,
              server: bool = False, error_handler: Any = None,
              deliver: Callable[[bytes], None] | None = None, idle_s: float = 0.05,
              queued: bool = False) -> RoutedLink:
    """An ISO-TP link sharing the endpoint's bus with every other link."""
    return RoutedLink(endpoint, addr, params, server, error_handler, deliver=deliver,
                      idle_s=idle_s, queued=queued)


def single_frame(payload: bytes, fd: bool = False, padding: int | None = PADDING) -> bytes:
    """ISO-TP single frame for a functional request (functional requests are single-frame)."""
    if len(payload) <= 7:
        frame = bytes([len(payload)]) + payload
        return frame if padding is None else frame.ljust(8, bytes([padding]))
    if fd and len(payload) <= 62:
        return bytes([0, len(payload)]) + payload
    raise ValueError("a functional request must fit in one frame")


def functional_message(addr_functional_id: int, extended: bool, payload: bytes,
                       fd: bool = False) -> can.Message:
    return can.Message(arbitration_id=addr_functional_id, is_extended_id=extended,
                       data=single_frame(payload, fd), is_fd=fd)


def parse_single_frame(data: bytes) -> bytes | None:
    """Payload of an ISO-TP single frame, or None for any other frame type."""
    if not data or data[0] >> 4 != 0:
        return None
    length = data[0] & 0x0F
    if length == 0 and len(data) > 1:
        return bytes(data[2:2 + data[1]])
    return bytes(data[1:1 + length]) if length else None
