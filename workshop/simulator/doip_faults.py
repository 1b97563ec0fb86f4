"""Fault injection for the simulated DoIP gateway: the documented API tests and demos drive.

- reset_at(sid, nth): the gateway resets the tester's TCP connection (RST, as a gateway that
  reboots or a cable pulled) when the nth diagnostic message of service `sid` from now
  arrives (that message is not routed).
- refuse_routing(code): routing activations are answered with this refusal code (ISO 13400-2
  table 25, e.g. 0x04 missing authentication); None routes again.
- unknown_target(address): diagnostic messages to this logical address get NACK 0x03, as a
  gateway whose routing table does not have the ECU.
- out_of_memory(address, times): the next `times` diagnostic messages to this logical
  address get NACK 0x05 (out of memory), as a gateway whose buffers are full.
- answer_slowly(delay_s): every answer from an ECU is held this long before it is forwarded.
- DoipGateway.restart(): every connection is dropped and the gateway listens again on the
  same port (a gateway reboot); testers must connect and activate routing again.
"""

from __future__ import annotations

import threading


class GatewayFaults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset: tuple[int, int] | None = None  # (service, messages of it still to pass)
        self.routing_refusal: int | None = None
        self.unknown_targets: set[int] = set()
        self.answer_delay_s = 0.0
        self._full: dict[int, int] = {}  # address: messages still to refuse for lack of room
        self.resets = threading.Event()  # set when a reset was done

    def reset_at(self, sid: int, nth: int = 1) -> None:
        with self._lock:
            self._reset = (sid, nth)
            self.resets.clear()

    def refuse_routing(self, code: int | None = 0x04) -> None:
        self.routing_refusal = code

    def unknown_target(self, address: int) -> None:
        with self._lock:
            self.unknown_targets.add(address)

    def out_of_memory(self, address: int, times: int = 1) -> None:
        with self._lock:
            self._full[address] = times

    def take_out_of_memory(self, address: int) -> bool:
        """Called by the gateway for each message to `address`: True to refuse it (0x05)."""
        with self._lock:
            left = self._full.get(address, 0)
            if left <= 0:
                return False
            self._full[address] = left - 1
            return True

    def answer_slowly(self, delay_s: float) -> None:
        self.answer_delay_s = delay_s

    def should_reset(self, payload: bytes) -> bool:
        """Called by the gateway for each diagnostic message: True to reset at this one."""
        with self._lock:
            if self._reset is None or not payload or payload[0] != self._reset[0]:
                return False
            sid, left = self._reset
            if left > 1:
                self._reset = (sid, left - 1)
                return False
            self._reset = None
        return True
