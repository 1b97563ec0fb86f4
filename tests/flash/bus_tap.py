"""The tester's requests as they cross the bus: ISO-TP frames the tester sends to one ECU
(or functionally), as the simulated vehicle receives them from the wire,
reassembled into UDS requests (classic and CAN FD single frames, first and consecutive
frames; flow control ignored)."""

from __future__ import annotations

import threading

import can

from workshop.services.connection import VehicleConnection


class RequestTap:
    def __init__(self, conn: VehicleConnection, arbitration_id: int) -> None:
        self.arbitration_id = arbitration_id
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._length = 0
        assert conn.simulator is not None  # the vehicle's side sees what reached the wire
        self._router = conn.simulator.endpoint.router
        self._router.add_tap(self)

    def close(self) -> None:
        self._router.remove_tap(self)

    def __call__(self, msg: can.Message) -> None:
        if msg.arbitration_id != self.arbitration_id:
            return
        data = bytes(msg.data)
        kind = data[0] >> 4
        with self._lock:
            if kind == 0:  # single frame; length 0 escapes to the FD form
                n = data[0] & 0xF
                self.requests.append(data[2:2 + data[1]] if n == 0 else data[1:1 + n])
            elif kind == 1:
                n = (data[0] & 0xF) << 8 | data[1]
                if n == 0:
                    n, self._buffer = int.from_bytes(data[2:6], "big"), bytearray(data[6:])
                else:
                    self._buffer = bytearray(data[2:])
                self._length = n
            elif kind == 2 and self._length:
                self._buffer += data[1:]
                if len(self._buffer) >= self._length:
                    self.requests.append(bytes(self._buffer[:self._length]))
                    self._length = 0

    def sequence(self) -> list[bytes]:
        """The requests with what is not the profile's to decide made comparable: keys
        (from a random seed) cut to their level, each TransferData cut to SID and counter,
        TesterPresent left out, and a request repeated back to back (polls, NRC 0x37
        retries, a repeated erase start) listed once."""
        out: list[bytes] = []
        with self._lock:
            requests = list(self.requests)
        for r in requests:
            if r[:1] == b"\x3e":
                continue
            if (r[:1] == b"\x27" and r[1] % 2 == 0) or r[:1] == b"\x36":
                r = r[:2]
            if not out or out[-1] != r:
                out.append(r)
        return out
