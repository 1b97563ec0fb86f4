"""udsoncan's connection over a DoIP link (workshop.transport.doip.DoipLink).

doipclient ships `DoIPClientUDSConnector`, which binds one synchronous `DoIPClient` to one
ECU; here the link is one ECU's share of a `DoipConnection`, so several clients (a scan's
ECUs) run over one TCP connection, and sends go through `send_confirmed` (TimedClient times
P2 from the gateway's acknowledgement)."""

from __future__ import annotations

from udsoncan.connections import BaseConnection
from udsoncan.exceptions import TimeoutException

from workshop.transport.doip import DoipLink


class DoipUdsConnection(BaseConnection):  # type: ignore[misc]
    def __init__(self, link: DoipLink) -> None:
        super().__init__(f"doip-{link.target:04X}")
        self.link = link
        self.opened = False

    def open(self) -> DoipUdsConnection:
        self.opened = True
        return self

    def close(self) -> None:
        self.opened = False

    def is_open(self) -> bool:
        return self.opened

    def specific_send(self, payload: bytes, timeout: float | None = None) -> None:
        self.link.send_confirmed(payload)

    def specific_wait_frame(self, timeout: float | None = None) -> bytes | None:
        if not self.opened:
            raise RuntimeError("DoIP connection is not open")
        data = self.link.recv(block=True, timeout=timeout)
        if data is None:
            raise TimeoutException(f"no answer from 0x{self.link.target:04X} within "
                                   f"{timeout} s")
        return bytes(data)

    def empty_rxqueue(self) -> None:
        while self.link.recv(block=False) is not None:
            pass
