"""The app side of the central store, on a real PostgreSQL (the tests/store server): the
background sync sends a flash's records and the status bar says so; a store that does not
answer is said in words while the work goes on; the Fleet view shows a VIN's history from
two workstations and the DTC chart; a tamper alarm is shown prominently."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import psycopg

from tests.store.conftest import pg_server, store_db, unique  # noqa: F401 (fixtures)
from tests.store.helpers import PASSWORD, role_dsn, workstation
from tests.store.test_fleet_deviations import _flash
from tests.ui.conftest import scan
from ui.main_window import MainWindow
from ui.settings_dialog import SettingsDialog
from workshop.audit import default_log_path
from workshop.foundation.settings import load_settings, save_settings
from workshop.services.sync import state_path, sync_log
from workshop.store.admin import enroll
from workshop.store.migrations import init_store

VIN = "WDXDEMC12RA000001"  # the simulated demo car's


def _use_store(window: MainWindow, **values: str) -> None:
    save_settings(replace(load_settings(), **values))
    window.store_sync.configure()


def _says(qtbot, window: MainWindow, *words: str) -> None:
    qtbot.waitUntil(lambda: all(w in window.store_state.text() for w in words), timeout=60000)


def _records(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM workshop.records").fetchone()[0])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _flash_engine(qtbot, window: MainWindow) -> None:
    update = window.views["UpdateView"]
    update.package.setCurrentText("engine-1.1.0")
    update.plan_button.click()
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    update.confirm = lambda text: True
    update.flash_button.click()
    qtbot.waitUntil(lambda: "SUCCESS" in update.result.toPlainText(), timeout=60000)


def test_a_flash_is_synced_in_the_background_and_the_status_bar_says_so(
        qtbot, window: MainWindow, store_db: str, unique: str) -> None:  # noqa: F811
    init_store(store_db)
    _, dsn = workstation(store_db, f"ws-{unique}")
    _use_store(window, store=dsn)
    _flash_engine(qtbot, window)
    # nobody pressed sync: the end of the flash sent its records
    _says(qtbot, window, "Central store: synced", "0 records waiting")
    assert _records(store_db) >= 3  # intent, the ECU's outcome, the flash's outcome
    assert "sent" in window.store_state.toolTip() and PASSWORD not in window.store_state.toolTip()


def test_a_store_that_does_not_answer_is_said_and_work_goes_on(
        qtbot, window: MainWindow, store_db: str, unique: str, pg_server) -> None:  # noqa: F811
    init_store(store_db)
    _, dsn = workstation(store_db, f"ws-{unique}")
    _use_store(window, store=dsn.replace(f"port={pg_server.port}", f"port={_closed_port()}"))
    scan(qtbot, window)
    faults = window.views["FaultsView"]
    faults.confirm = lambda text: True
    faults.table.selectRow(0)
    faults.clear_selected_ecu()
    qtbot.waitUntil(lambda: "cleared" in faults.outcome.toPlainText(), timeout=30000)
    _says(qtbot, window, "Central store unreachable (", "waiting here, nothing lost")
    assert "refused" in window.store_state.text().lower()  # the reason, in the driver's words
    assert not window.store_alarm.isVisible()
    # the app kept working: another scan answers while the store is away
    assert len(scan(qtbot, window).ecus) == 7  # type: ignore[attr-defined]
    # that scan recounted what waits without knocking again: the reason is still there
    qtbot.waitUntil(lambda: not window.store_sync._running, timeout=30000)
    assert "Connection refused" in window.store_state.text()
    # the store is back: the next sync sends what waited
    _use_store(window, store=dsn)
    window.store_sync.request(sync=True)
    _says(qtbot, window, "Central store: synced", "0 records waiting")
    assert _records(store_db) >= 1


def test_settings_test_connection_runs_off_the_gui_thread_and_bad_strings_are_refused(
        qtbot, window: MainWindow, store_db: str, unique: str) -> None:  # noqa: F811
    init_store(store_db)
    _, dsn = workstation(store_db, f"ws-{unique}")
    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    dialog.store.store.setText(dsn)
    dialog.store.test_button.click()
    assert dialog.store.result.text() == "Connecting…"  # the click returned at once
    qtbot.waitUntil(lambda: "Connected as" in dialog.store.result.text(), timeout=30000)
    assert f"ws-{unique}" in dialog.store.result.text() and "answers" in \
        dialog.store.result.text()
    dialog.store.store.setText("host=127.0.0.1 port")
    dialog.save()
    assert "Not saved: Central store: the store connection string is not valid" in \
        dialog.problem.text()
    assert load_settings().store == ""  # nothing half-written
    dialog.store.store.setText(dsn)
    dialog.store.period.setValue(120)
    dialog.save()
    assert load_settings().store == dsn and load_settings().sync_seconds == 120


def test_fleet_view_shows_a_vins_history_from_two_workstations_and_the_dtc_chart(
        qtbot, window: MainWindow, store_db: str, unique: str, tmp_path: Path) -> None:  # noqa: F811
    init_store(store_db)
    _, a_dsn = workstation(store_db, f"ws-a-{unique}")
    b, b_dsn = workstation(store_db, f"ws-b-{unique}")
    _use_store(window, store=a_dsn)  # this app is workstation A: it flashes the demo car
    scan(qtbot, window)  # the flash records the DTCs it finds before it starts
    _flash_engine(qtbot, window)
    _says(qtbot, window, "Central store: synced", "0 records waiting")
    _flash(tmp_path / "b.db", b, VIN, "ABS", "1.0.0", "1.1.0", dtcs=("C003500", "C004100"))
    sync_log(b_dsn, tmp_path / "b.db", lambda: b)
    enroll(store_db, "auditor", f"aud-{unique}", password=PASSWORD)
    _use_store(window, fleet_store=role_dsn(store_db, f"aud-{unique}"))
    fleet = window.views["FleetView"]
    window.tabs.setCurrentWidget(fleet)
    fleet.vin.setText("not a vin!")
    fleet.show_history()
    assert "Type the vehicle's VIN" in fleet.note.text()
    fleet.vin.setText(VIN.lower())
    fleet.show_history()
    qtbot.waitUntil(lambda: fleet.history.rowCount() >= 4, timeout=30000)
    cells = [[fleet.history.item(r, c).text() for c in range(fleet.history.columnCount())]
             for r in range(fleet.history.rowCount())]
    assert {row[1] for row in cells} == {f"ws-a-{unique}", f"ws-b-{unique}"}
    engine = next(row for row in cells if row[3] == "ENGINE" and row[4] == "success")
    assert "1.0.0 → 1.1.0" in engine[5] and engine[6] == "demo-car-engine-1.1.0"
    assert engine[7]  # the package's signer, by name
    assert all(row[8] == "yes" for row in cells)
    assert not any(row[5].startswith("Flash step") for row in cells)  # the steps: on request
    fleet.every_step.setChecked(True)
    assert fleet.history.rowCount() > len(cells)
    assert "from 2 workstation(s)" in fleet.note.text()
    assert not any("{" in cell for row in cells for cell in row)  # words, not JSON
    fleet.tabs.setCurrentIndex(2)
    fleet.show_dtcs()
    qtbot.waitUntil(lambda: fleet.bars is not None, timeout=30000)
    bars = dict(zip(fleet.chart_labels, fleet.bars.opts["height"], strict=True))
    assert bars["ABS 1.0.0"] == 2  # C003500 and C004100, from workstation B
    assert bars["ENGINE 1.0.0"] >= 1  # what this app's flash found stored (P030100)
    assert fleet.dtcs.rowCount() >= 3


def test_a_tamper_alarm_is_shown_in_red_with_what_to_do(qtbot, window: MainWindow) -> None:
    _use_store(window, store="host=127.0.0.1 port=1 dbname=x user=ws")
    state = {"store": "host=127.0.0.1", "log": "", "local_seq": 0, "server_seq": 0,
             "pushed": 0, "head_seq": 0, "time": "2026-12-06T10:00:00.000000Z",
             "alarm": "the log was cut back", "unreachable": False, "pulled": [],
             "refused": []}
    path = state_path(default_log_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))
    window.refresh_store_state()
    qtbot.waitUntil(lambda: window.store_alarm.isVisible(), timeout=30000)
    assert "TAMPER ALARM" in window.store_state.text()
    assert "background" in window.store_state.styleSheet()
    banner = window.store_alarm.text()
    assert "the log was cut back" in banner and "What to do:" in banner
    assert "audit verify" in banner



def test_the_sync_period_is_checked_and_a_wrong_one_is_never_saved() -> None:
    from workshop.foundation.errors import ConfigError
    from workshop.foundation.settings import Settings

    assert Settings().sync_seconds == 60
    for wrong in ("5", "1e3", "-60", "90000", "sixty"):
        try:
            save_settings(replace(load_settings(), store_sync_seconds=wrong))
        except ConfigError as exc:
            assert "whole number of seconds from 10 to 86400" in exc.message
        else:
            raise AssertionError(f"{wrong!r} was saved")
    assert load_settings().store_sync_seconds == ""
