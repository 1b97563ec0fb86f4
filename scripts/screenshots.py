"""Render each main view of the app offscreen to docs/screenshots/*.png, after a scan, a DTC
read, a flash plan and a flash, on the simulated demo-car. Run: python scripts/screenshots.py
[--dark]"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dark", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args()
    if "WORKSHOP_HOME" not in os.environ:  # a fresh home, with a workshop for the report
        os.environ["WORKSHOP_HOME"] = tempfile.mkdtemp()
        from workshop.foundation.settings import Settings, save_settings
        save_settings(Settings(workshop_name="Demo Garage, Springfield",
                               technician_name="Jane Doe", technician_id="T-0042"))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    from ui.settings_dialog import SettingsDialog
    from ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "dark" if args.dark else "light")
    w = MainWindow("demo-car", channel=f"shots-{uuid.uuid4()}")
    w.resize(1280, 760)
    w.show()

    def wait(signal: object, timeout_ms: int = 30000) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)  # type: ignore[attr-defined]
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()

    def settle(ms: int = 300) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    w.panel.toggle()
    wait(w.session.connected)
    w.session.start_scan()
    wait(w.session.scan_done)
    settle(1500)  # baseline verdicts
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "-dark" if args.dark else ""
    shots = [("vehicle", 0), ("faults", 1)]
    for name, index in shots:
        w.tabs.setCurrentIndex(index)
        settle()
        w.grab().save(str(args.out / f"{name}{suffix}.png"))
    faults = w.views["FaultsView"]
    faults.table.selectRow(0)
    settle()
    w.grab().save(str(args.out / f"faults{suffix}.png"))
    faults.raw.setChecked(True)  # the same DTC with its bytes, as the toggle shows them
    settle()
    w.grab().save(str(args.out / f"faults-raw{suffix}.png"))
    faults.raw.setChecked(False)
    update = w.views["UpdateView"]
    update.package.setCurrentText("powertrain-1.2.0")
    w.tabs.setCurrentIndex(2)
    update.plan()
    while not update.flash_button.isEnabled() and update.tree.topLevelItemCount() < 2:
        settle(200)
    settle()
    w.grab().save(str(args.out / f"update-plan{suffix}.png"))
    update.package.setCurrentText("engine-1.1.0")
    update.plan()
    while not update.flash_button.isEnabled():
        settle(200)
    update.confirm = lambda text: True  # type: ignore[method-assign]
    update.flash()
    while "—" not in update.result.toPlainText():
        settle(200)
    w.grab().save(str(args.out / f"update-result{suffix}.png"))
    w.tabs.setCurrentIndex(3)
    settle(500)
    w.grab().save(str(args.out / f"trace{suffix}.png"))
    audit = w.views["AuditView"]
    w.tabs.setCurrentIndex(4)
    audit.refresh()
    settle(1500)
    audit.verify()
    settle(1500)
    w.grab().save(str(args.out / f"audit{suffix}.png"))
    live = w.views["LiveView"]  # eight engine signals plotting, half a minute in
    w.tabs.setCurrentWidget(live)
    assert w.session.conn is not None and w.session.conn.simulator is not None
    w.session.conn.simulator.fault("ENGINE").advance_clock(100)  # a warm engine revving
    live.choose([0xF404, 0xF405, 0xF40C, 0xF40D, 0xF40F, 0xF410, 0xF411, 0xF442])
    live.period.setValue(0.05)
    live.start()
    settle(25000)
    w.grab().save(str(args.out / f"live{suffix}.png"))
    live.stop()
    settle(500)
    # the customer report after the flash and a clear, its first pages as PNG
    faults.confirm = lambda text: True  # type: ignore[method-assign]
    w.tabs.setCurrentIndex(1)
    faults.clear_all()
    wait(w.session.dtcs_read)
    settle(500)
    pdf = Path(tempfile.mkdtemp()) / "report.pdf"
    w.export_report(pdf)
    wait(w.report_written)
    if args.dark:
        pass  # the report is paper: one set of pages, rendered with the light run
    elif shutil.which("pdftoppm"):
        prefix = args.out / f"report{suffix}"
        subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "2", str(pdf),
                        str(prefix)], check=True)
        for page in sorted(args.out.glob(f"report{suffix}-[0-9]*.png")):  # pdftoppm's names
            number = int(page.stem.rsplit("-", 1)[1])
            page.replace(args.out / f"report{suffix}-page{number}.png")
    else:
        print("pdftoppm not found (apt-get install -y poppler-utils): no report pages")
    dialog = SettingsDialog(w)
    dialog.show()
    settle()
    dialog.grab().save(str(args.out / f"settings{suffix}.png"))
    dialog.close()
    w.close()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
