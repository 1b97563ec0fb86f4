"""Views that keep up with the vehicle: a flash shows in the Vehicle view without F5, a new
plan drops the last flash's progress, a clear drops the DTC from the report, the DTC panel
reads in words, and the customer report's pages say what was done (rendered to PNG)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.ui.conftest import scan
from ui import report
from ui.main_window import MainWindow
from ui.views.common import find_row
from workshop.services.session_report import audit_facts


def _flash(qtbot, window: MainWindow, package: str) -> None:
    update = window.views["UpdateView"]
    update.package.setCurrentText(package)
    update.plan_button.click()
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    update.confirm = lambda text: True
    update.flash_button.click()
    qtbot.waitUntil(lambda: "SUCCESS" in update.result.toPlainText(), timeout=60000)


def test_flash_shows_the_new_version_in_the_vehicle_view_without_f5(
        qtbot, window: MainWindow) -> None:
    scan(qtbot, window)
    vehicle = window.views["VehicleView"]
    row = find_row(vehicle.table, 0, "ENGINE")
    assert vehicle.table.item(row, 3).text() == "1.0.0"
    qtbot.waitUntil(lambda: vehicle.table.item(find_row(vehicle.table, 0, "ENGINE"), 5)
                    .text() == "outdated", timeout=30000)

    def engine() -> tuple[str, str]:
        row = find_row(vehicle.table, 0, "ENGINE")
        return vehicle.table.item(row, 3).text(), vehicle.table.item(row, 5).text()

    _flash(qtbot, window, "engine-1.1.0")  # nothing but the flash: no scan asked for
    qtbot.waitUntil(lambda: engine() == ("1.1.0", "approved"), timeout=60000)
    reading = window.session.history.readings.ecus["ENGINE"]
    assert reading.software == "1.1.0"
    # rows in ECU-name order, not in the order the ECUs answered
    names = [vehicle.table.item(r, 0).text() for r in range(vehicle.table.rowCount())]
    assert names == sorted(names)

    # a new plan drops the finished flash's "100 %"
    update = window.views["UpdateView"]
    assert update._rows and not update.overall.isHidden()
    update.package.setCurrentText("abs-1.1.0")
    update.plan_button.click()
    qtbot.waitUntil(lambda: "Plan ready" in update.result.toPlainText(), timeout=30000)
    assert not update._rows and update.bars.count() == 0 and update.overall.isHidden()


def test_dtc_panel_reads_in_words_and_hex_only_when_asked(qtbot, window: MainWindow) -> None:
    scan(qtbot, window)
    faults = window.views["FaultsView"]
    row = find_row(faults.table, 1, "P030100")
    faults.table.selectRow(row)
    text = faults.detail.toPlainText()
    assert "failing now" in text and "confirmed" in text
    assert "Engine speed (0x9000)" in text and "3000 rpm" in text and "50 °C" in text
    assert "Occurrence counter (record 1)" in text
    assert "0BB8" not in text and "0x2F" not in text
    faults.raw.setChecked(True)
    raw = faults.detail.toPlainText()
    assert "0BB8" in raw and "0x2F" in raw and "confirmedDTC" in raw
    assert faults.table.item(row, 3).text().startswith("failing now")


def _pdf_text(path: Path) -> str:
    return " ".join("".join(p.extract_text() for p in PdfReader(str(path)).pages).split())


def test_a_cleared_dtc_leaves_the_report_and_the_pages_say_what_was_done(
        qtbot, window: MainWindow, tmp_path: Path) -> None:
    scan(qtbot, window)
    faults = window.views["FaultsView"]
    assert find_row(faults.table, 1, "P070000") >= 0  # TRANSMISSION, not present: clears
    faults.confirm = lambda text: True
    with qtbot.waitSignal(window.session.dtcs_read, timeout=60000):
        faults.clear_all()
    assert find_row(faults.table, 1, "P070000") < 0
    history = window.session.history
    assert [d.code for d in history.readings.ecus["TRANSMISSION"].dtcs] == []
    html = report.report_html("demo-car", "Demo Car 2024", history,
                              audit_facts(history.started, history.readings.vin))
    row = html[html.index("<tr><td>TRANSMISSION</td>"):]
    row = row[:row.index("</tr>")]
    before, now = row.split("</td><td>")[1:3]
    assert "P070000" in before and "P070000" not in now and "none stored" in now

    pdf = tmp_path / "report.pdf"
    with qtbot.waitSignal(window.report_written, timeout=30000):
        window.export_report(pdf)
    text = _pdf_text(pdf)
    assert "WDXDEMC12RA000001" in text and "Before the repair" in text
    assert "Fault memory cleared" in text and "signed head" in text
    assert "Technician signature" in text

    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is needed to look at the report's pages (apt-get install -y "
                    "poppler-utils; .ci/run installs it)")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(str(pdf)).pages) >= 2
    from PySide6.QtGui import QImage
    for page in pages:  # every page has ink: nothing rendered blank
        image = QImage(str(page))
        assert not image.isNull()
        dark = sum(1 for y in range(0, image.height(), 4) for x in range(0, image.width(), 4)
                   if image.pixelColor(x, y).lightness() < 128)
        assert dark > 50, page.name
    # the pages are numbered (QTextDocument's footer): the last page's number is its own
    last = PdfReader(str(pdf)).pages[-1].extract_text()
    assert str(len(pages)) in last.split()


def test_the_trace_filter_applies_to_rows_already_shown(qtbot, window: MainWindow) -> None:
    trace = window.views["TraceView"]
    window.tabs.setCurrentWidget(trace)
    scan(qtbot, window)
    ids = lambda: {trace.model.data(trace.model.index(r, 2))  # noqa: E731
                   for r in range(trace.model.rowCount())}
    qtbot.waitUntil(lambda: {"7E0", "7E8", "7E1"} <= ids(), timeout=20000)
    trace.id_filter.setText("7E8")  # no new frame needed: the shown rows follow at once
    assert ids() == {"7E8"}
    trace.id_filter.setText("")
    assert {"7E0", "7E1"} <= ids()


def test_audit_details_are_sentences_newest_first(qtbot, window: MainWindow) -> None:
    scan(qtbot, window)
    _flash(qtbot, window, "engine-1.1.0")
    audit = window.views["AuditView"]
    audit.refresh()
    qtbot.waitUntil(lambda: audit.table.rowCount() >= 12, timeout=20000)
    seqs = [int(audit.table.item(r, 0).text()) for r in range(audit.table.rowCount())]
    assert seqs == sorted(seqs, reverse=True)  # as numbers: 10 before 9
    details = [audit.table.item(r, 7).text() for r in range(audit.table.rowCount())]
    assert "ENGINE 1.0.0 → 1.1.0, success" in " ".join(details)
    assert not any(d.startswith("{") or "': " in d for d in details)
