"""Test vehicles derived from demo-car, and a raw ISO-TP tester for byte-level exchanges."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import can

from tests.conftest import open_vehicle
from workshop.services.connection import VehicleConnection
from workshop.transport.isotp_link import LinkParams, RoutedLink, open_link
from workshop.transport.router import BusEndpoint

DEMO_CAR = Path(__file__).resolve().parents[2] / "resources" / "vehicles" / "demo-car.toml"
# An extra ECU whose DTCs are in SAE J1939-73 format (SPN + FMI), as on a truck.
J1939_ECU = """
[[ecus]]
name = "RETARDER"
request_id = 0x7E7
response_id = 0x7EF
dtc_format = "sae-j1939-73"

[ecus.identification]
F187 = "RET-100"

[[ecus.dtcs]]
code = "SPN 110 FMI 0"
status = 0x2F
text = "Engine coolant temperature above normal"

[[ecus.dtcs]]
code = "SPN 524287 FMI 31"
status = 0x08
"""


def bench_vehicle(tmp_path: Path, *, engine: str = "", extra: str = "") -> Path:
    """demo-car without simulated latency; `engine` adds lines to ENGINE, `extra` appends."""
    text = DEMO_CAR.read_text().replace("latency_ms = [5, 15]", "latency_ms = [0, 0]", 1)
    text = text.replace('name = "ENGINE"', 'name = "ENGINE"\n' + engine, 1) + extra
    path = tmp_path / "bench-car.toml"
    path.write_text(text)
    return path


@contextmanager
def bench(tmp_path: Path, *, engine: str = "", extra: str = "") -> Iterator[VehicleConnection]:
    conn = open_vehicle(bench_vehicle(tmp_path, engine=engine, extra=extra))
    try:
        yield conn
    finally:
        conn.close()


class RawTester:
    """Raw UDS bytes over a real ISO-TP link to one simulated ECU: what goes on the wire."""

    def __init__(self, conn: VehicleConnection, ecu: str) -> None:
        assert conn.endpoint is not None
        definition = conn.vehicle.ecu(ecu)
        self.link: RoutedLink = open_link(conn.endpoint, conn.target(definition).address,
                                          LinkParams())
        self.link.start()

    def close(self) -> None:
        self.link.close()

    def send(self, request: bytes) -> None:
        self.link.send(request)

    def next(self, timeout_s: float = 5.0) -> bytes:
        data = self.link.recv(block=True, timeout=timeout_s)
        assert data is not None, "no answer"
        return bytes(data)

    def exchange(self, request: bytes) -> list[bytes]:
        """Every answer up to the final one: 0x78 response-pending answers, then the last."""
        self.send(request)
        answers = [self.next()]
        while answers[-1][:1] == b"\x7f" and answers[-1][2:3] == b"\x78":
            answers.append(self.next())
        return answers

    def ask(self, request: bytes) -> bytes:
        """The single answer to a request that gets exactly one."""
        answers = self.exchange(request)
        assert len(answers) == 1, answers
        return answers[0]


class FrameCounter:
    """Counts frames on a bus endpoint that match a predicate; `wait_for(n)` blocks until."""

    def __init__(self, endpoint: BusEndpoint, arbitration_id: int, prefix: bytes) -> None:
        self.arbitration_id, self.prefix = arbitration_id, prefix
        self.count = 0
        self._cond = threading.Condition()
        endpoint.router.add_tap(self)

    def __call__(self, msg: can.Message) -> None:
        if msg.arbitration_id == self.arbitration_id and bytes(msg.data).startswith(self.prefix):
            with self._cond:
                self.count += 1
                self._cond.notify_all()

    def wait_for(self, n: int, timeout_s: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= n,
                                       timeout=max(0.0, deadline - time.monotonic()))
