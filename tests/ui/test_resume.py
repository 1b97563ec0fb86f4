"""An interrupted flash in the app: the Vehicle view names the ECU left in its bootloader and
offers Resume, which plans the rest of the flash in the Update view; Flash finishes it."""

from __future__ import annotations

from pathlib import Path

from tests.flash.helpers import Update, build
from tests.ui.conftest import scan
from ui.main_window import MainWindow

STUCK = "BODY"  # single bank: a power loss mid-download leaves it in its bootloader


def _cell(view, ecu: str, column: int) -> str:  # type: ignore[no-untyped-def]
    rows = [r for r in range(view.table.rowCount()) if view.table.item(r, 0).text() == ecu]
    return view.table.item(rows[0], column).text()


def _state(view, ecu: str) -> str:  # type: ignore[no-untyped-def]
    return _cell(view, ecu, 6)


def test_vehicle_view_names_the_ecu_in_its_bootloader_and_resume_finishes_it(
        qtbot, window: MainWindow, tmp_path: Path) -> None:
    vehicle, update = window.views["VehicleView"], window.views["UpdateView"]
    scan(qtbot, window)
    assert vehicle.boot_row.isHidden()

    # a flash of BODY through the app, cut by a power loss half-way through the download
    sim = window.session.conn.simulator
    pkg = build(tmp_path, "cut", [Update(STUCK, size=30000)])
    update.package.setCurrentText(str(pkg))
    update.overrides = {"rollback": "single bank on a fresh install (test)"}
    update.plan_button.click()
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    update.confirm = lambda text: True
    sim.fault(STUCK).lose_power_after_bytes(12345, off_s=0.3)
    with qtbot.waitSignal(window.session.scan_done, timeout=90000) as rescanned:
        update.flash_button.click()  # the view reads the vehicle again after the flash
    assert "RESUMABLE" in update.result.toPlainText()
    assert sim.fault(STUCK).powered.wait(5)
    if rescanned.args[0].in_bootloader != [STUCK]:  # it scanned while BODY was still off
        scan(qtbot, window)

    assert vehicle.boot_row.isVisible()
    assert vehicle.resume_button.isVisible() and vehicle.resume_button.isEnabled()
    assert f"{STUCK} sits in the bootloader: a flash was interrupted" in vehicle.boot_note.text()
    assert "in its bootloader" in _state(vehicle, STUCK)
    qtbot.waitUntil(lambda: _cell(vehicle, STUCK, 5) == "in bootloader", timeout=20000)
    assert "bootloader" not in _state(vehicle, "ENGINE")

    window.tabs.setCurrentWidget(vehicle)
    vehicle.resume_button.click()
    assert window.tabs.currentWidget() is update
    qtbot.waitUntil(lambda: update.prep is not None and update.prep.ready
                    and update.flash_button.isEnabled(), timeout=30000)
    plan = update.prep.plan
    assert [e.ecu for e in plan.ecus] == [STUCK] and plan.ecus[0].resume
    assert update.package.currentText() == str(pkg)
    with qtbot.waitSignal(window.session.scan_done, timeout=90000) as rescanned:
        update.flash_button.click()
    assert "SUCCESS" in update.result.toPlainText(), update.result.toPlainText()
    assert rescanned.args[0].in_bootloader == []
    assert vehicle.boot_row.isHidden()
    assert _state(vehicle, STUCK) == "answered"
    assert sim.ecus[STUCK].flash.version() == "1.1.0"


def test_resume_with_nothing_interrupted_says_so(qtbot, window: MainWindow) -> None:
    update = window.views["UpdateView"]
    window.session.resume_requested.emit()
    qtbot.waitUntil(lambda: "Nothing resumed" in update.result.toPlainText(), timeout=30000)
    assert "no interrupted flash on demo-car" in update.result.toPlainText()
    assert not update.flash_button.isEnabled()

