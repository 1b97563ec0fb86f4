"""Each workflow of the app on real widgets against the simulated demo-car."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import can
from pypdf import PdfReader

from tests.flash.helpers import Update, build
from tests.ui.conftest import scan
from ui.main_window import MainWindow


def test_connect_and_scan_fill_the_vehicle_view(qtbot, window: MainWindow) -> None:
    result = scan(qtbot, window)
    view = window.views["VehicleView"]
    assert view.table.rowCount() == len(result.ecus) == 7
    qtbot.waitUntil(lambda: view.table.item(0, 5).text() != "…", timeout=20000)
    verdicts = {view.table.item(r, 5).text() for r in range(view.table.rowCount())}
    assert verdicts == {"outdated"}  # demo-car runs 1.0.0, the baseline approves 1.1.0
    assert "WDXDEMC12RA000001" in view.vin.text()


def test_read_and_clear_dtcs_with_confirmation(qtbot, window: MainWindow) -> None:
    scan(qtbot, window)
    faults = window.views["FaultsView"]
    assert faults.table.rowCount() > 0
    codes = {faults.table.item(r, 1).text() for r in range(faults.table.rowCount())}
    assert "P030100" in codes
    asked: list[str] = []
    faults.confirm = lambda text: asked.append(text) or True
    with qtbot.waitSignal(window.session.runner.busy_changed, timeout=30000,
                          check_params_cb=lambda busy: not busy):
        faults.clear_all()
    qtbot.waitUntil(lambda: "cleared" in faults.outcome.toPlainText(), timeout=30000)
    assert "functional request" in asked[0]
    assert "ENGINE: cleared" in faults.outcome.toPlainText()


def test_verify_plan_and_flash_with_progress(qtbot, window: MainWindow) -> None:
    update = window.views["UpdateView"]
    update.package.setCurrentText("engine-1.1.0")
    update.plan_button.click()
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    assert update.tree.topLevelItem(0).text(1) == "passed"
    progress: list[int] = []
    update.confirm = lambda text: True
    update.flash_button.click()
    bar = update._rows["ENGINE"][1]
    bar.valueChanged.connect(progress.append)
    qtbot.waitUntil(lambda: "SUCCESS" in update.result.toPlainText(), timeout=60000)
    assert progress and progress[-1] == bar.maximum()
    assert "1.0.0 → 1.1.0" in update.result.toPlainText()
    assert update.overall.value() == 1


def test_preconditions_checklist_is_live_and_holds_the_flash_back(qtbot,
                                                                   window: MainWindow) -> None:
    sim = window.session.conn.simulator
    sim.fault("ENGINE").set_conditions(ignition=False, battery_mv=11200)
    update = window.views["UpdateView"]
    checklist = update.preconditions
    update.package.setCurrentText("engine-1.1.0")
    update.plan_button.click()
    qtbot.waitUntil(lambda: checklist.table.rowCount() == 1, timeout=30000)
    row = [checklist.table.item(0, c).text() for c in range(5)]
    assert row[:4] == ["ENGINE", "11.2 V", "0 km/h", "OFF"]
    assert row[4].startswith("NOT MET")
    assert not update.flash_button.isEnabled()
    assert "the flash waits" in checklist.note.text()
    sim.fault("ENGINE").set_conditions(ignition=True, battery_mv=12600)  # the charger is on
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    assert [checklist.table.item(0, c).text() for c in (1, 3, 4)] == ["12.6 V", "on", "met"]
    update.confirm = lambda text: True
    update.flash_button.click()
    qtbot.waitUntil(lambda: "SUCCESS" in update.result.toPlainText(), timeout=60000)
    assert not checklist.timer.isActive()
    # held, or said plainly that it was not; on the simulator a note, never a red warning
    assert ("kept awake" in update.awake.text()
            or "the simulated vehicle does not need it" in update.awake.text())
    assert "color" not in update.awake.styleSheet()


def test_failing_flash_rolls_back_and_says_so(qtbot, window: MainWindow) -> None:
    sim = window.session.conn.simulator
    sim.fault("ENGINE").fail_next_boot()
    update = window.views["UpdateView"]
    update.package.setCurrentText("engine-1.1.0")
    update.plan_button.click()
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    update.confirm = lambda text: True
    update.flash_button.click()
    qtbot.waitUntil(lambda: "ROLLED_BACK" in update.result.toPlainText(), timeout=60000)
    assert "previous software runs again" in update.result.toPlainText()


def test_cancel_before_programming_touches_nothing(qtbot, window: MainWindow,
                                                   tmp_path: Path) -> None:
    pkg = build(tmp_path, "two", [Update("GATEWAY"), Update("ENGINE", depends_on=["GATEWAY"])])
    update = window.views["UpdateView"]
    update.package.setCurrentText(str(pkg))
    update.plan_button.click()
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    update.confirm = lambda text: True
    update.flash_button.click()
    update.job.cancel.cancel()  # before any ECU entered programming: a safe point
    qtbot.waitUntil(lambda: "REFUSED" in update.result.toPlainText(), timeout=60000)
    assert "cancelled before programming" in update.result.toPlainText()
    assert window.session.conn.simulator.ecus["ENGINE"].flash.version() == "1.0.0"


def test_trace_records_a_file_python_can_reads_back(qtbot, window: MainWindow,
                                                    tmp_path: Path) -> None:
    trace = window.views["TraceView"]
    window.tabs.setCurrentWidget(trace)
    out = tmp_path / "trace.asc"
    trace.record(out)
    scan(qtbot, window)
    qtbot.waitUntil(lambda: len(trace.model.rows) > 50, timeout=10000)
    trace.record(None)
    frames = list(can.LogReader(str(out)))
    assert len(frames) > 50
    assert {f.arbitration_id for f in frames} & {0x7E0, 0x7E8}


def test_audit_verify_and_pdf_report(qtbot, window: MainWindow, tmp_path: Path) -> None:
    scan(qtbot, window)
    clear_first_ecu(qtbot, window)
    audit = window.views["AuditView"]
    audit.refresh()
    qtbot.waitUntil(lambda: audit.table.rowCount() >= 2, timeout=20000)
    audit.verify()
    qtbot.waitUntil(lambda: "VERIFIED" in audit.result.toPlainText(), timeout=20000)
    assert audit.result.toPlainText().startswith("VERIFIED")
    pdf = tmp_path / "report.pdf"
    with qtbot.waitSignal(window.report_written, timeout=30000):
        window.export_report(pdf)
    text = " ".join("".join(p.extract_text() for p in PdfReader(str(pdf)).pages).split())
    assert "WDXDEMC12RA000001" in text
    assert "Fault memory cleared" in text and "ENGINE" in text


def test_self_test_exits_zero(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ui.app", "--self-test", "--channel",
                           f"selftest-{tmp_path.name}"], capture_output=True, text=True,
                          timeout=120, check=False,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "7 of 7 ECUs answered" in proc.stdout


def test_first_run_identity_then_audited_clear_signed_by_it(qtbot, window: MainWindow) -> None:
    from ui.identity_dialog import IdentityDialog

    assert "demo identity" in window.identity.text()
    dialog = IdentityDialog(window)
    qtbot.addWidget(dialog)
    dialog.protection.setCurrentText("Passphrase")
    dialog.passphrase.setText("correct horse battery staple")
    dialog.repeat.setText("correct horse battery")
    dialog.create_button.click()
    assert "same passphrase twice" in dialog.message.text()
    dialog.repeat.setText("correct horse battery staple")
    dialog.create_button.click()
    assert "Created workstation" in dialog.message.text()
    window.refresh_identity()
    assert "not by a certified identity" in window.identity.text()
    asked: list[int] = []
    window.session.ask_passphrase = lambda: asked.append(1) or "correct horse battery staple"
    scan(qtbot, window)
    clear_first_ecu(qtbot, window)
    assert asked == [1]  # asked once, in the GUI thread, before the audited work
    audit = window.views["AuditView"]
    audit.verify()
    qtbot.waitUntil(lambda: "VERIFIED" in audit.result.toPlainText(), timeout=20000)
    assert "demo identity" not in audit.result.toPlainText().split("\n")[-1]


def clear_first_ecu(qtbot, window: MainWindow) -> None:
    faults = window.views["FaultsView"]
    faults.confirm = lambda text: True
    faults.table.selectRow(0)
    faults.clear_selected_ecu()
    qtbot.waitUntil(lambda: "cleared" in faults.outcome.toPlainText(), timeout=30000)


def test_settings_are_checked_saved_and_used(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from ui.settings_dialog import SettingsDialog
    from workshop.foundation.settings import load_settings, settings_path

    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    dialog.name.setText("Jane Doe")
    dialog.ident.setText("T-0042")
    dialog.folders["package_dir"].setText("relative/packages")
    dialog.save()
    assert "Not saved: setting package_dir must be an absolute folder" in dialog.problem.text()
    # nothing of the refused values was written (the file holds the connection panel's
    # remembered adapter since the window connected)
    assert not settings_path().exists() or load_settings().package_dir == ""
    dialog.folders["package_dir"].setText(str(tmp_path / "shop-packages"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.save()
    assert dialog.saved is not None and load_settings().technician == "Jane Doe (T-0042)"
    try:
        window.apply_settings(dialog.saved)
        window_colour = QApplication.palette().color(QPalette.ColorRole.Window)
        assert window_colour.lightness() < 80  # dark
        # the package store moved: the Update view lists the demo packages from there
        assert window.views["UpdateView"].package.count() > 0
        assert any((tmp_path / "shop-packages").glob("*.wspkg"))
        scan(qtbot, window)
        clear_first_ecu(qtbot, window)
        audit = window.views["AuditView"]
        audit.refresh()
        qtbot.waitUntil(lambda: audit.table.rowCount() >= 2, timeout=20000)
        shown = {audit.table.item(r, c).text() for r in range(audit.table.rowCount())
                 for c in range(audit.table.columnCount()) if audit.table.item(r, c)}
        assert "Jane Doe (T-0042)" in shown
    finally:
        from ui.theme import apply_theme
        apply_theme(QApplication.instance(), "light")  # the next tests start light again


DATA = Path(__file__).resolve().parents[1] / "data"


def test_trace_decodes_frames_with_a_real_dbc(qtbot, window: MainWindow) -> None:
    import cantools

    trace = window.views["TraceView"]
    window.tabs.setCurrentWidget(trace)
    trace.load_dbc(DATA / "opendbc_tesla_can.dbc")  # malformed: refused, in words
    assert "cannot read DBC opendbc_tesla_can.dbc" in window.error.text()
    assert trace.model.decoder is None
    trace.load_dbc(DATA / "opendbc_vw_mqb.dbc")  # breaks the rules: loaded leniently
    assert trace.model.decoder is not None and trace.model.decoder.lenient
    trace.load_dbc(DATA / "opendbc_toyota_prius_2010_pt.dbc")
    db = cantools.database.load_file(str(DATA / "opendbc_toyota_prius_2010_pt.dbc"))
    speed = db.get_message_by_name("SPEED")
    payload = speed.encode({"ENCODER": 0, "SPEED": 50.0, "CHECKSUM": 0})
    trace.id_filter.setText(f"{speed.frame_id:X}")
    channel = window.session.conn.adapter.channel
    with can.Bus(interface="virtual", channel=channel, receive_own_messages=False) as car:
        car.send(can.Message(arbitration_id=speed.frame_id, data=payload,
                             is_extended_id=False))
        qtbot.waitUntil(lambda: len(trace.model.rows) == 1, timeout=10000)
    signals = trace.model.data(trace.model.index(0, 5))
    assert signals.startswith("SPEED: ") and "SPEED=50.0" in signals
    assert trace.model.data(trace.model.index(0, 2)) == "0B4"
    qtbot.waitUntil(lambda: "DBC opendbc_toyota_prius_2010_pt.dbc: 26 messages"
                    in trace.status.text(), timeout=10000)
