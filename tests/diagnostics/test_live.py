"""Live data over the real stack: simulator <-> virtual bus <-> ISO-TP <-> UDS <-> reader."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest

from workshop.diagnostics.live import LiveCycle, LiveProblem, LiveReader, LiveSample
from workshop.foundation.errors import ConfigError
from workshop.foundation.events import CancelToken, Event
from workshop.services import live
from workshop.services.connection import VehicleConnection
from workshop.services.live_csv import LiveCsv, check_csv_path
from workshop.vehicles.ecu_descriptions import ecu_descriptions

RPM, COOLANT, VOLTS, SPEED = 0xF40C, 0xF405, 0xF442, 0xF40D


class Collect:
    """The reader's events; `on_cycle(index)` runs after each complete set."""

    def __init__(self, on_cycle: object = None) -> None:
        self.events: list[Event] = []
        self.on_cycle = on_cycle

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, LiveCycle) and callable(self.on_cycle):
            self.on_cycle(event.index)

    def samples(self, did: int) -> list[LiveSample]:
        return [e for e in self.events if isinstance(e, LiveSample) and e.did == did]

    def problems(self, did: int | None = None) -> list[LiveProblem]:
        return [e for e in self.events if isinstance(e, LiveProblem) and e.did == did]


def reader(conn: VehicleConnection, client: object, dids: list[int], sink: Collect,
           **kw: object) -> LiveReader:
    return LiveReader(client, dids, ecu_descriptions(conn.vehicle, "ENGINE"),  # type: ignore[arg-type]
                      events=sink, **kw)  # type: ignore[arg-type]


def test_values_change_with_the_ecus_clock_and_carry_units(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    clock = demo.simulator.fault("ENGINE")
    sink = Collect(on_cycle=lambda _i: clock.advance_clock(7.0))
    with demo.client("ENGINE") as ecu:
        summary = reader(demo, ecu, [RPM, COOLANT, VOLTS, SPEED], sink, count=5).run()
    assert summary.cycles == 5 and summary.samples == 20 and summary.problems == 0
    rpm = [s.value for s in sink.samples(RPM)]
    assert len(set(rpm)) > 1 and all(v is not None and 600 < v < 3500 for v in rpm)
    coolant = [s.value for s in sink.samples(COOLANT)]
    assert coolant[-1] is not None and coolant[0] is not None and coolant[-1] > coolant[0]
    first = sink.samples(VOLTS)[0]
    assert first.name == "Control module voltage" and first.unit == "V"
    assert first.text.endswith(" V") and 12 < (first.value or 0) < 15.5
    assert len(first.raw) == 2


def test_a_refused_did_is_reported_and_the_others_go_on(demo: VehicleConnection) -> None:
    sink = Collect()
    with demo.client("ENGINE") as ecu:
        summary = reader(demo, ecu, [RPM, 0x1234, COOLANT, 0xF190], sink, count=3).run()
    assert len(sink.samples(RPM)) == 3 and len(sink.samples(COOLANT)) == 3
    refused = sink.problems(0x1234)
    assert len(refused) == 3 and "requestOutOfRange" in refused[0].message
    vin = sink.samples(0xF190)  # undescribed: shown as hex and said so
    assert vin and vin[0].value is None and "(hex, undescribed)" in vin[0].text
    assert summary.problems == 3


def test_an_ecu_that_takes_one_did_per_request_is_read_one_by_one(
        demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").answer_with_nrc(0x22, 0x13, times=1)
    sink = Collect()
    with demo.client("ENGINE") as ecu:
        r = reader(demo, ecu, [RPM, COOLANT, VOLTS], sink, count=2)
        r.run()
    assert r.single_only
    said = sink.problems(None)
    assert len(said) == 1 and "one DID per request" in said[0].message
    assert all(len(sink.samples(d)) == 2 for d in (RPM, COOLANT, VOLTS))


def test_a_silent_ecu_is_said_in_words_and_reading_resumes(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    plan = demo.simulator.fault("ENGINE")

    def on_cycle(index: int) -> None:
        if index == 1:
            plan.stop_answering()
        elif index == 2:
            plan.resume()

    sink = Collect(on_cycle)
    with demo.client("ENGINE") as ecu:
        summary = reader(demo, ecu, [RPM, COOLANT], sink, count=3).run()
    assert summary.cycles == 3
    lost = sink.problems(RPM)
    assert lost and "did not answer" in lost[0].message
    assert len(sink.samples(RPM)) == 2  # cycles 1 and 3


def test_cancel_stops_the_reader_while_it_waits(demo: VehicleConnection) -> None:
    token, first = CancelToken(), threading.Event()
    sink = Collect(on_cycle=lambda _i: first.set())
    with demo.client("ENGINE") as ecu:
        r = reader(demo, ecu, [RPM], sink, cancel=token, period_s=3600)
        worker = threading.Thread(target=r.run)
        worker.start()
        assert first.wait(30)
        token.cancel()
        worker.join(30)
        assert not worker.is_alive()
    assert r.summary.cancelled and r.summary.cycles == 1


def test_csv_is_complete_when_stopped(demo: VehicleConnection, tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    dids = live.resolve_dids(demo.vehicle, "ENGINE", ["engine rpm", "F405", "0xF190"])
    table = ecu_descriptions(demo.vehicle, "ENGINE")
    from workshop.diagnostics.live import Signal
    token = CancelToken()
    ten = threading.Event()
    with LiveCsv(path, [Signal(d, table.did(d)) for d in dids]) as rec:
        def sink(event: Event) -> None:
            rec.add(event)
            if isinstance(event, LiveCycle) and event.index == 10:
                ten.set()
        worker = threading.Thread(target=live.watch, args=(demo, "ENGINE", dids),
                                  kwargs={"events": sink, "cancel": token})
        worker.start()
        assert ten.wait(60)
        token.cancel()  # what Ctrl-C and Stop do
        worker.join(60)
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time (UTC)", "seconds", "Engine RPM [rpm]",
                       "Engine coolant temperature [°C]", "DID F190 (undescribed) [hex]"]
    assert len(rows) - 1 == rec.rows >= 10
    assert all(len(r) == 5 and r[2] and r[3] for r in rows[1:])
    assert rows[1][4] == b"WDXDEMC12RA000001".hex().upper()


def test_dids_by_hex_or_name_and_refusals_in_words(demo: VehicleConnection) -> None:
    v = demo.vehicle
    assert live.resolve_dids(v, "ENGINE", ["F40C", "0xf405", "vehicle_speed",
                                           "Control-Module voltage"]) == [
        RPM, COOLANT, SPEED, VOLTS]
    with pytest.raises(ConfigError, match="neither a DID in hex nor the name"):
        live.resolve_dids(v, "ENGINE", ["rpm please"])
    with pytest.raises(ConfigError, match="no ECU named"):
        live.resolve_dids(v, "NOPE", ["F40C"])


def test_csv_path_is_refused_through_links_and_missing_folders(tmp_path: Path) -> None:
    (tmp_path / "target.csv").write_text("keep")
    (tmp_path / "link.csv").symlink_to(tmp_path / "target.csv")
    with pytest.raises(ConfigError, match="symbolic link"):
        check_csv_path(tmp_path / "link.csv")
    with pytest.raises(ConfigError, match="does not exist"):
        check_csv_path(tmp_path / "missing" / "live.csv")
    with pytest.raises(ConfigError, match="not a plain file"):
        check_csv_path(tmp_path)
    assert (tmp_path / "target.csv").read_text() == "keep"
