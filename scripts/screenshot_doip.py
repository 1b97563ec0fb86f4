"""Render the main window connected to the simulated vehicle over DoIP, scanned, with the
connection panel's discovery list filled, to docs/screenshots/connection-doip[-dark].png.
Run: python scripts/screenshot_doip.py [--dark]"""

from __future__ import annotations

import argparse
import os
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
    args = ap.parse_args()
    os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp())
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    from ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "dark" if args.dark else "light")
    w = MainWindow("demo-car", channel=f"shots-{uuid.uuid4()}")
    w.resize(1280, 520)
    w.show()

    def wait(signal: object, timeout_ms: int = 30000) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)  # type: ignore[attr-defined]
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()

    def choose(label: str) -> None:
        index = w.panel.adapter.findText(label)
        w.panel.adapter.setCurrentIndex(index)
        w.panel.adapter.activated.emit(index)

    panel = w.panel
    choose("Simulated vehicle over DoIP")
    panel.toggle()
    wait(w.session.connected)
    w.session.start_scan()
    wait(w.session.scan_done)
    assert w.session.conn is not None and w.session.conn.gateway is not None
    choose("Ethernet (DoIP)")  # as the technician would, to find a gateway on the cable
    panel.host.setText("127.0.0.1")
    panel.port.setValue(w.session.conn.gateway.port)
    panel.discover()
    for _ in range(100):  # until the discovery's worker has answered
        if panel.discover_button.isEnabled():
            break
        wait(w.session.runner.busy_changed, 300)
    name = "connection-doip-dark.png" if args.dark else "connection-doip.png"
    w.grab().save(str(ROOT / "docs" / "screenshots" / name))
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
