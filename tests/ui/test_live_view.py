"""Live data view: real widgets offscreen over the simulator: start, values in the table and
the plots' data, stop, and the CSV recorded meanwhile."""

from __future__ import annotations

import csv
from pathlib import Path

from ui.main_window import MainWindow

RPM, VOLTS, SPEED = 0xF40C, 0xF442, 0xF40D


def test_live_view_reads_plots_and_records(qtbot: object, window: MainWindow,
                                           tmp_path: Path) -> None:
    view = window.views["LiveView"]
    window.tabs.setCurrentWidget(view)
    assert view.ecu.currentText() == "ENGINE"
    assert view.signal_list.count() >= 8
    view.choose([RPM, VOLTS, SPEED])
    view.period.setValue(0.05)
    view.start_button.click()
    assert view.start_button.text() == "Stop"
    path = tmp_path / "live.csv"
    view.record(path)
    assert view.record_button.text() == "Stop recording"
    # ten points of each signal in the plots: ten complete reads went through the ticks
    qtbot.waitUntil(lambda: all(len(view.plots.data(d)[1]) >= 10  # type: ignore[attr-defined]
                                for d in (RPM, VOLTS, SPEED)), timeout=30000)
    rows = {view.table.item(r, 0).text(): r for r in range(view.table.rowCount())}
    assert set(rows) == {"Engine RPM", "Control module voltage", "Vehicle speed"}
    volts = view.table.item(rows["Control module voltage"], 1).text()
    assert 12 < float(volts) < 15.5
    assert view.table.item(rows["Control module voltage"], 2).text() == "V"
    times, rpm = view.plots.data(RPM)
    assert times == sorted(times) and all(600 < v < 3500 for v in rpm)
    with qtbot.waitSignal(window.session.runner.busy_changed, timeout=30000):  # type: ignore[attr-defined]
        view.start_button.click()  # Stop
    qtbot.waitUntil(lambda: view.start_button.text() == "Start", timeout=30000)  # type: ignore[attr-defined]
    assert "stopped after" in view.status.text() and "rows in" in view.status.text()
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][2:] == ["Engine RPM [rpm]", "Vehicle speed [km/h]",
                            "Control module voltage [V]"]
    assert len(table) > 2 and all(len(r) == 5 for r in table[1:])


def test_start_without_a_signal_says_what_to_do(qtbot: object, window: MainWindow) -> None:
    view = window.views["LiveView"]
    view.choose([])
    with qtbot.waitSignal(window.session.error, timeout=5000) as blocker:  # type: ignore[attr-defined]
        view.start_button.click()
    assert blocker.args[0] == "no signal chosen"
    assert view.start_button.text() == "Start"


def test_a_bad_csv_path_is_refused_in_words(qtbot: object, window: MainWindow,
                                            tmp_path: Path) -> None:
    view = window.views["LiveView"]
    view.choose([RPM])
    (tmp_path / "link.csv").symlink_to(tmp_path / "elsewhere.csv")
    for path, words in ((tmp_path / "missing" / "live.csv", "does not exist"),
                        (tmp_path / "link.csv", "symbolic link")):
        with qtbot.waitSignal(window.session.error, timeout=5000) as blocker:  # type: ignore[attr-defined]
            view.record(path)
        assert words in blocker.args[0]
        assert view.record_button.text() == "Record CSV…"
    assert not (tmp_path / "elsewhere.csv").exists()
