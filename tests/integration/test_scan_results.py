"""Scan results over the real stack: discovery beyond the definition, honest errors, typed
events and cancel, bounded threads on a large vehicle, and VIN checks."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import open_vehicle, unique_adapter
from tests.integration.vehicles import demo_variant, synthetic_fleet
from workshop.cli import diag_cmd, main
from workshop.diagnostics.scan import MAX_SCAN_WORKERS, EcuScan
from workshop.foundation.errors import CancelledError
from workshop.foundation.events import EcuFinished, EcuStarted, EcuStep, Event
from workshop.services import connection, diagnose
from workshop.services.connection import VehicleConnection
from workshop.simulator import SimulatedVehicle
from workshop.vehicles import load_vehicle

HIDDEN_ECU = """
[[ecus]]
name = "HIDDEN"
request_id = 0x7E7
response_id = 0x7EF
latency_ms = 100  # slower than P2: answers 0x78 first, after the listed ECUs are done

[ecus.identification]
F187 = "HID-900-1"
F189 = "3.0.0"
"""


@pytest.fixture
def sim_faults(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[SimulatedVehicle], None]]:
    """Faults applied to the simulator that a CLI command starts for itself."""
    faults: list[Callable[[SimulatedVehicle], None]] = []

    class Faulty(SimulatedVehicle):
        def start(self) -> SimulatedVehicle:
            super().start()
            for fault in faults:
                fault(self)
            return self

    monkeypatch.setattr(connection, "SimulatedVehicle", Faulty)
    return faults


# -- A3: discovery waits the whole window ----------------------------------------------------

def test_discovery_finds_an_ecu_missing_from_the_definition(tmp_path: Path) -> None:
    simulated = load_vehicle(demo_variant(tmp_path, "demo-plus", HIDDEN_ECU))
    conn = VehicleConnection(unique_adapter(), load_vehicle("demo-car"), simulated=simulated)
    with conn:
        result = diagnose.scan(conn)
    by_source = {e.name: e.source for e in result.ecus}
    assert by_source.pop("ECU@7EF") == "discovered"
    assert set(by_source.values()) == {"definition+discovered"} and len(by_source) == 7
    hidden = next(e for e in result.ecus if e.name == "ECU@7EF")
    assert hidden.responded and hidden.error is None
    assert hidden.identity.part_number == "HID-900-1"


# -- A6: honest results ---------------------------------------------------------------------

def test_refused_dtc_read_is_an_error_not_zero_dtcs(
        sim_faults: list[Callable[[SimulatedVehicle], None]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    sim_faults.append(lambda sim: sim.fault("ABS").answer_with_nrc(0x19, 0x11))
    channel = ["--channel", f"a6-{tmp_path.name}"]
    assert main([*channel, "scan", "--json", "--no-discovery"]) == 1
    doc = json.loads(capsys.readouterr().out)
    abs_ecu = next(e for e in doc["ecus"] if e["name"] == "ABS")
    assert abs_ecu["error"] == "DTC read failed: NRC 0x11 serviceNotSupported"
    assert abs_ecu["responded"] and abs_ecu["identification"]["sparePartNumber"]
    assert all(e["error"] is None for e in doc["ecus"] if e["name"] != "ABS")
    assert main([*channel, "scan", "--no-discovery"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("ABS"))
    assert "DTC read failed: NRC 0x11 serviceNotSupported" in line and "0 DTC" not in line


def test_silent_bus_is_a_communication_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # A real adapter on an empty bus: nothing answers at all.
    code = main(["--adapter", "virtual", "--channel", f"silent-{tmp_path.name}",
                 "scan", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 3 and doc["exit_code"] == 3
    assert "no ECU answered" in doc["message"]
    for word in ("adapter", "ignition", "bitrate"):
        assert word in doc["hint"]


# -- C1: typed events and cancel --------------------------------------------------------------

def test_scan_publishes_each_ecu_result_as_it_completes(demo: VehicleConnection) -> None:
    events: list[Event] = []
    result = diagnose.scan(demo, events=events.append, discover=False)
    finished = [e for e in events if isinstance(e, EcuFinished)]
    assert sorted(e.ecu for e in finished) == sorted(x.name for x in demo.vehicle.ecus)
    by_name = {e.name: e for e in result.ecus}
    for event in finished:
        assert event.task == "scan" and event.ok and event.error is None
        assert isinstance(event.result, EcuScan) and event.result is by_name[event.ecu]
        assert event.result.identity.software_version == "1.0.0"
        own = [e for e in events if getattr(e, "ecu", None) == event.ecu]
        assert isinstance(own[0], EcuStarted) and own[-1] is event
        assert [(s.step, s.index, s.total) for s in own if isinstance(s, EcuStep)] == [
            ("identify", 1, 2), ("read DTCs", 2, 2)]


def test_dtc_read_publishes_results_under_its_own_task(demo: VehicleConnection) -> None:
    events: list[Event] = []
    result = diagnose.read_dtcs(demo, only=["ENGINE"], events=events.append)
    finished = [e for e in events if isinstance(e, EcuFinished)]
    assert [(e.task, e.ecu) for e in finished] == [("dtc.read", "ENGINE")]
    assert finished[0].result is result.ecus[0]
    assert [d.code for d in result.ecus[0].dtcs] == ["P030100", "P017100"]


@pytest.mark.parametrize("concurrent", [True, False])
def test_cancel_after_the_first_result(demo: VehicleConnection, concurrent: bool) -> None:
    token = diagnose.new_cancel_token()
    events: list[Event] = []

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, EcuFinished):
            token.cancel()

    with pytest.raises(CancelledError):
        diagnose.scan(demo, events=sink, cancel=token, discover=False, concurrent=concurrent)
    if not concurrent:  # one ECU after another: nothing starts after the cancel
        assert [type(e).__name__ for e in events].count("EcuStarted") == 1


def test_ctrl_c_cancels_the_cli_scan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[Event] = []
    printer = diag_cmd.event_printer

    def with_ctrl_c(args: object) -> Callable[[Event], None]:
        show = printer(args)  # type: ignore[arg-type]

        def sink(event: Event) -> None:
            seen.append(event)
            show(event)
            if isinstance(event, EcuFinished) and len(
                    [e for e in seen if isinstance(e, EcuFinished)]) == 1:
                signal.raise_signal(signal.SIGINT)  # what Ctrl-C does
        return sink

    monkeypatch.setattr(diag_cmd, "event_printer", with_ctrl_c)
    code = main(["--channel", f"c1-{tmp_path.name}", "scan", "--sequential", "--json"])
    assert code == 5
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"] == "CancelledError" and doc["exit_code"] == 5
    assert [type(e).__name__ for e in seen].count("EcuStarted") == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_an_ecu_whose_answer_was_lost_is_asked_again(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("AIRBAG").drop_frame(1)  # its first answer never reaches the tester
    events: list[Event] = []
    result = diagnose.scan(demo, events=events.append, discover=False)
    assert all(e.error is None for e in result.ecus), [(e.name, e.error) for e in result.ecus]
    airbag = [type(e).__name__ for e in events if getattr(e, "ecu", None) == "AIRBAG"]
    assert airbag.count("EcuStarted") == 1 and airbag.count("EcuFinished") == 1
    assert airbag[-1] == "EcuFinished"


# -- A10: any size of vehicle -------------------------------------------------------------------

# Well above MAX_SCAN_WORKERS, so the bound is what is tested; the benchmark scans 200. Not
# more here: every simulated ECU runs its own threads in this process, and on two busy
# cores it is the simulator, not the tester, that then misses P2.
FLEET = 120


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[VehicleConnection]:
    conn = open_vehicle(synthetic_fleet(tmp_path, FLEET))
    try:
        yield conn
    finally:
        if conn.simulator is not None:  # stop the simulated ECUs side by side
            with ThreadPoolExecutor(32) as pool:
                list(pool.map(lambda ecu: ecu.stop(), conn.simulator.ecus.values()))
        conn.close()


def test_large_vehicle_scans_completely_with_bounded_threads(
        fleet: VehicleConnection, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="UdsClient")  # 2,000 NRC 0x31 warnings otherwise
    before = threading.active_count()  # the simulator's threads are already running
    peak = [0]

    def sample(event: Event) -> None:
        peak[0] = max(peak[0], threading.active_count() - before)

    result = diagnose.scan(fleet, events=sample)
    assert len(result.ecus) == FLEET
    assert all(e.responded and e.error is None for e in result.ecus), [
        (e.name, e.error) for e in result.ecus if e.error]
    assert all(e.source == "definition+discovered" for e in result.ecus)
    # Per scan worker: its own thread and the two of its ISO-TP link (can-isotp).
    assert 0 < peak[0] <= MAX_SCAN_WORKERS * 3 + 8


# -- A11: VIN read from the ECUs is checked ---------------------------------------------------

def test_scan_flags_an_invalid_vin(tmp_path: Path) -> None:
    path = demo_variant(tmp_path, "bad-vin", vin="WDEMO000000000001")
    conn = VehicleConnection(unique_adapter(), load_vehicle(path))
    with conn:
        doc = diagnose.scan(conn, discover=False).to_json()
    assert doc["vin"] == "WDEMO000000000001"
    assert doc["vin_valid"] is False and "O" in doc["vin_problem"]
    assert all(e["vin_valid"] is False for e in doc["ecus"])


def test_scan_accepts_the_builtin_vin(demo: VehicleConnection,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    doc = diagnose.scan(demo, discover=False).to_json()
    assert doc["vin_valid"] is True and doc["vin_problem"] is None


def test_cli_shows_an_invalid_vin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo_variant(tmp_path, "bad-vin", vin="1M8GDM9AXKP042789")  # wrong check digit
    assert main(["--channel", f"vin-{tmp_path.name}", "--vehicle", str(path), "scan",
                 "--no-discovery"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "1M8GDM9AXKP042789" in head and "INVALID" in head and "check digit" in head
