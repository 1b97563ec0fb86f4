"""Issue 19 in the app: the Faults panel words a DTC of an ECU described by a PDX alone
(text, snapshot and extended data names, units, scaling), over the simulator; rendered
offscreen to a PNG."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

from pypdf import PdfReader

from tests.integration.test_odx_ecu import definition
from tests.ui.conftest import scan
from tests.vehicles.test_odx_built import PDX, build
from ui.main_window import MainWindow


def test_faults_panel_words_the_dtc_from_the_pdx(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdx = tmp_path / "built.pdx"
    build(PDX, pdx, ecu=True)
    # extended data records 1 and 16 stored; their names and units are the PDX's
    vehicle = definition(tmp_path, pdx,
                         tables='[ecus.dtcs.extended]\n"1" = "05"\n"16" = "000C"\n')
    before = {t.ident for t in threading.enumerate()}
    w = MainWindow(str(vehicle), channel=f"gui-{uuid.uuid4()}")
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    try:
        with qtbot.waitSignal(w.session.connected, timeout=20000):
            w.panel.toggle()
        scan(qtbot, w)
        w.tabs.setCurrentWidget(w.views["FaultsView"])
        faults = w.views["FaultsView"]
        assert faults.table.rowCount() == 1
        assert [faults.table.item(0, c).text() for c in range(3)] == [
            "SAULT", "P033500", "Crankshaft position sensor circuit"]
        faults.table.selectRow(0)
        text = faults.detail.toPlainText()
        assert "engine_speed (0xF40C)" in text and "750 rpm" in text
        assert "coolant_temperature (0xF1B0)" in text and "50 °C" in text
        assert "occurrence_counter (record 1)\n5" in text
        assert "odometer_at_first_failure (record 16)\n120 km" in text
        assert "(undescribed)" not in text
        # the PDF report words it the same way, from the same description
        pdf = tmp_path / "report.pdf"
        with qtbot.waitSignal(w.report_written, timeout=30000):
            w.export_report(pdf)
        pages = " ".join("".join(p.extract_text() for p in PdfReader(str(pdf)).pages).split())
        assert "Crankshaft position sensor circuit" in pages
        assert "engine_speed (0xF40C): 750 rpm" in pages and "50 °C" in pages
        assert "occurrence_counter (record 1): 5; odometer_at_" in pages  # "fi": a ligature
        assert "(record 16): 120 km" in pages
        # the Vehicle view's ECU cell lists the identification in words
        vehicle_view = w.views["VehicleView"]
        tip = vehicle_view.table.item(0, 0).toolTip()
        assert "variant somersault_lazy" in tip and "coolant_temperature (0xF1B0): 50 °C" in tip
        assert "operating_mode (0xF1B1): running" in tip
        out = Path(os.environ.get("WORKSHOP_SCREENSHOT", tmp_path / "faults-odx.png"))
        assert w.grab().save(str(out))
        assert out.stat().st_size > 10_000
    finally:
        w.close()
        qtbot.waitUntil(lambda: not w.session.runner.busy, timeout=20000)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()
            and not t.daemon]
    assert not left, f"threads left running: {left}"
