"""Keep-alive (TesterPresent) interleaved with requests: no answer may be corrupted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import can
import pytest

from tests.conftest import open_vehicle
from workshop.foundation.events import Event, LinkProblem
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import open_bus
from workshop.transport.router import BusEndpoint
from workshop.uds.client import EXTENDED_SESSION, EcuClient

IDENT = {0xF188: b"SW04001", 0xF19E: b"EV_ENGINE_001", 0xF18A: b"Bosch"}


def fast_vehicle(tmp_path: Path) -> Path:
    """demo-car with no simulated latency, so thousands of requests take seconds."""
    src = Path(__file__).resolve().parents[2] / "resources" / "vehicles" / "demo-car.toml"
    text = src.read_text().replace("latency_ms = [5, 15]", "latency_ms = [0, 0]", 1)
    path = tmp_path / "fast-car.toml"
    path.write_text(text)
    return path


@pytest.fixture
def fast(tmp_path: Path) -> Iterator[VehicleConnection]:
    conn = open_vehicle(fast_vehicle(tmp_path))
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def trace(fast: VehicleConnection) -> Iterator[BusEndpoint]:
    """A second listener on the same bus, as a trace tool would be (a bus does not
    receive its own frames)."""
    endpoint = BusEndpoint(open_bus(fast.adapter))
    try:
        yield endpoint
    finally:
        endpoint.close()


class _TesterPresentCounter:
    """Counts TesterPresent requests on the wire (a tap sees every frame)."""

    def __init__(self, request_id: int) -> None:
        self.request_id = request_id
        self.count = 0
        self.seen = threading.Event()

    def __call__(self, msg: can.Message) -> None:
        if msg.arbitration_id == self.request_id and bytes(msg.data[1:2]) == b"\x3e":
            self.count += 1
            self.seen.set()


def test_reads_stay_correct_under_fast_keepalive(fast: VehicleConnection,
                                                 trace: BusEndpoint) -> None:
    counter = _TesterPresentCounter(0x7E0)
    trace.router.add_tap(counter)
    wrong: list[str] = []
    with fast.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        ecu._stop_keepalive()
        ecu._start_keepalive(period_s=0.002)
        dids = list(IDENT)
        for i in range(2000):
            did = dids[i % len(dids)]
            try:
                if i % 10 == 9:
                    # 0x19 has a sub-function: the one a shared suppress flag would corrupt
                    got = repr(sorted((d.dtc, d.status) for d in ecu.read_dtcs(details=False)))
                    if got != repr([(0x017100, 0x28), (0x030100, 0x2F)]):
                        wrong.append(f"read {i}: DTCs {got}")
                    continue
                value = ecu.read_did(did)
                if value != IDENT[did]:
                    wrong.append(f"read {i}: DID {did:04X} = {value!r}")
            except Exception as exc:  # every failure counts as a wrong answer
                wrong.append(f"read {i}: {type(exc).__name__}: {exc}")
    assert wrong == []
    assert counter.count >= 10  # the keep-alive really interleaved with the reads


class _Problems:
    """Event sink collecting keep-alive problems; `seen` is set by the first one."""

    def __init__(self) -> None:
        self.events: list[LinkProblem] = []
        self.seen = threading.Event()

    def __call__(self, event: Event) -> None:
        if isinstance(event, LinkProblem):
            self.events.append(event)
            self.seen.set()


def test_keepalive_survives_bus_off_and_reports_it(fast: VehicleConnection,
                                                   trace: BusEndpoint) -> None:
    assert fast.simulator is not None and fast.endpoint is not None
    problems = _Problems()
    counter = _TesterPresentCounter(0x7E0)
    trace.router.add_tap(counter)
    target = fast.target(fast.vehicle.ecu("ENGINE"))
    with EcuClient(fast.endpoint, target, events=problems, keepalive_period_s=0.005) as ecu:
        ecu.change_session(EXTENDED_SESSION)
        fast.simulator.bus_off(True)
        try:
            assert problems.seen.wait(10)
        finally:
            fast.simulator.bus_off(False)
        first = problems.events[0]
        assert (first.task, first.ecu) == ("keepalive", "ENGINE")
        assert "transmit" in first.message and "bus-off" in first.message
        counter.seen.clear()
        assert counter.seen.wait(10)  # the keep-alive is still running after bus-off
        assert ecu._keepalive is not None and ecu._keepalive.is_alive()
        assert ecu.read_did(0xF188) == b"SW04001"


def test_refused_keepalive_is_reported_not_taken_for_an_answer(fast: VehicleConnection
                                                              ) -> None:
    assert fast.simulator is not None and fast.endpoint is not None
    problems = _Problems()
    target = fast.target(fast.vehicle.ecu("ENGINE"))
    with EcuClient(fast.endpoint, target, events=problems, keepalive_period_s=0.002) as ecu:
        ecu.change_session(EXTENDED_SESSION)
        # Negative answers are sent even to suppressed requests (ISO 14229-1), so they
        # arrive while the next request waits for its own answer.
        fast.simulator.fault("ENGINE").answer_with_nrc(0x3E, 0x21, times=50)
        wrong = []
        for i in range(300):
            try:
                if (value := ecu.read_did(0xF19E)) != b"EV_ENGINE_001":
                    wrong.append(f"read {i}: {value!r}")
            except Exception as exc:  # every failure counts as a wrong answer
                wrong.append(f"read {i}: {type(exc).__name__}: {exc}")
        assert problems.seen.wait(10)
    assert wrong == []
    assert "refused TesterPresent (0x3E): NRC 0x21" in problems.events[0].message
