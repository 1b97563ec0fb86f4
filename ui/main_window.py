"""Main window: the connection panel on top, the views as tabs, errors in words below."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui import report
from ui.connection_panel import ConnectionPanel
from ui.identity_dialog import IdentityDialog, identity_status
from ui.session import Session
from ui.settings_dialog import SettingsDialog
from ui.store_sync import StoreState, StoreSync
from ui.theme import apply_theme
from ui.views.audit_view import AuditView
from ui.views.common import VERDICT_COLOURS
from ui.views.faults_view import FaultsView
from ui.views.fleet_view import FleetView
from ui.views.live_view import LiveView
from ui.views.trace_view import TraceView
from ui.views.update_view import UpdateView
from ui.views.vehicle_view import VehicleView
from workshop.foundation.events import CancelToken
from workshop.foundation.settings import Settings
from workshop.services import diagnose
from workshop.services.identity import key_protection
from workshop.services.session_report import AuditFacts, audit_facts

VIEWS = [VehicleView, FaultsView, UpdateView, TraceView, AuditView, LiveView, FleetView]
ALARM_STYLE = (f"background: {VERDICT_COLOURS['failed']}; color: white; font-weight: bold; "
               "padding: 1px 6px;")


class MainWindow(QMainWindow):
    report_written = Signal(str)  # the PDF report's path, once it is on disk

    def __init__(self, vehicle: str = "demo-car", channel: str | None = None) -> None:
        super().__init__()
        # The bus, simulator and flash threads are Python threads: hand the GIL over every
        # millisecond (default 5 ms) so the GUI thread's turn never waits behind all of them.
        sys.setswitchinterval(0.001)
        self.setWindowTitle("workshop — vehicle diagnosis and reflash")
        self.session = Session(self)
        self.panel = ConnectionPanel(self.session, vehicle, channel)
        self.tabs = QTabWidget()
        self.views = {cls.__name__: cls(self.session) for cls in VIEWS}
        for view in self.views.values():
            self.tabs.addTab(view, view.title)  # type: ignore[attr-defined]
        self.identity = QLabel("")
        self.identity.setWordWrap(True)
        identity_button = QPushButton("Identity…")
        identity_button.clicked.connect(self.open_identity)
        settings_button = QPushButton("Settings…")
        settings_button.clicked.connect(self.open_settings)
        banner = QHBoxLayout()
        banner.addWidget(self.identity, 1)
        banner.addWidget(identity_button)
        banner.addWidget(settings_button)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {VERDICT_COLOURS['failed']}")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.panel)
        layout.addLayout(banner)
        self.store_alarm = QLabel("")  # a tamper alarm: above everything, until resolved
        self.store_alarm.setWordWrap(True)
        self.store_alarm.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.store_alarm.setStyleSheet(ALARM_STYLE + "padding: 8px;")
        self.store_alarm.hide()
        layout.addWidget(self.store_alarm)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        self.setCentralWidget(body)
        self.session.error.connect(self.show_error)
        if self.panel.restore_notes:  # e.g. a remembered gateway address that is no address
            self.show_error("\n".join(self.panel.restore_notes),
                            "type the gateway's address again (it is remembered when "
                            "connected), or fix the settings file")
        self.session.resume_requested.connect(
            lambda: self.tabs.setCurrentWidget(self.views["UpdateView"]))
        self.session.busy_changed.connect(
            lambda busy: self.statusBar().showMessage("working…" if busy else "ready"))
        self.store_state = QLabel("")
        self.store_state.hide()
        self.statusBar().addPermanentWidget(self.store_state)
        self.store_sync = StoreSync(self.session.audit_ask, self)
        self.store_sync.changed.connect(self.show_store_state)
        # an action may have added records (a flash, a clear): they go to the store now
        self.session.work_done.connect(self.refresh_store_state)
        self.store_sync.request(sync=True)
        self._actions()
        self.session.ask_passphrase = self._ask_passphrase
        self.refresh_identity()
        self.resize(1200, 760)
        freeze_startup_heap()

    def refresh_identity(self) -> None:
        certified, text = identity_status()
        self.identity.setText(text)
        self.identity.setStyleSheet("" if certified else
                                    f"color: {VERDICT_COLOURS['resumable']}")

    def refresh_store_state(self) -> None:
        """Sync what waits for the central store (in the background), then show its state."""
        self.store_sync.request(sync=False)

    def show_store_state(self, state: StoreState) -> None:
        self.store_state.setText(state.line)
        self.store_state.setToolTip(state.detail)
        self.store_state.setVisible(bool(state.line))
        self.store_state.setStyleSheet(
            ALARM_STYLE if state.kind == "alarm" else
            f"color: {VERDICT_COLOURS['outdated']}" if state.kind in ("offline", "problem")
            else "")
        self.store_alarm.setText(state.detail if state.kind == "alarm" else "")
        self.store_alarm.setVisible(state.kind == "alarm")

    def open_settings(self) -> None:
        dialog = SettingsDialog(self)
        if dialog.exec() and dialog.saved is not None:
            self.apply_settings(dialog.saved)

    def apply_settings(self, settings: Settings) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, settings.theme)
        self.refresh_identity()
        self.store_sync.configure()
        self.store_sync.request(sync=True)
        self.views["UpdateView"].refresh_packages()  # type: ignore[attr-defined]
        self.statusBar().showMessage("settings saved")

    def open_identity(self) -> None:
        IdentityDialog(self).exec()
        self.refresh_identity()

    def _ask_passphrase(self) -> str | None:
        found = key_protection()
        if found is None or found[1] != "passphrase":
            return None
        text, ok = QInputDialog.getText(self, "Workstation key",
                                        f"Passphrase of workstation key {found[0]} "
                                        "(signs the audit records):",
                                        QLineEdit.EchoMode.Password)
        return text if ok and text else None

    def _actions(self) -> None:
        menu = self.menuBar().addMenu("&Session")
        for text, keys, slot in (
                ("&Connect / disconnect", "Ctrl+K", self.panel.toggle),
                ("&Scan", "F5", self.session.start_scan),
                ("Read &DTCs", "Ctrl+D", self.views["FaultsView"].read),  # type: ignore[attr-defined]
                ("&Report (PDF)…", "Ctrl+P", self._choose_report),
                ("S&ettings…", "Ctrl+,", self.open_settings),
                ("&Quit", "Ctrl+Q", self.close)):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.addAction(action)
        for i in range(self.tabs.count()):
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Alt+{i + 1}"))
            action.triggered.connect(lambda _=False, i=i: self.tabs.setCurrentIndex(i))
            self.addAction(action)

    def show_error(self, what: str, hint: str) -> None:
        self.error.setText(what + (f"\nWhat to do: {hint}" if hint else ""))

    def export_report(self, path: Path) -> None:
        """Reads the session's audit records on a worker thread, then writes the PDF;
        `report_written` says when it is on disk."""
        conn = self.session.conn
        name, model = (conn.vehicle.name, conn.vehicle.model) if conn else ("", "")
        history = self.session.history
        source = diagnose.vehicle_descriptions(conn, history.scans)

        def work(_events: Any, _cancel: CancelToken) -> AuditFacts:
            return audit_facts(history.started, history.readings.vin)

        def write(facts: AuditFacts) -> None:
            report.write_pdf(path, name, model, history, facts, source)
            self.report_written.emit(str(path))

        self.session.run(work, on_done=write)

    def _choose_report(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Report", "report.pdf", "PDF (*.pdf)")
        if path:
            self.export_report(Path(path))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.property("flashing") and QMessageBox.question(
                self, "Flash in progress",
                "An ECU is being flashed. Closing now interrupts it (it can be resumed). "
                "Close anyway?") != QMessageBox.StandardButton.Yes:
            event.ignore()
            return
        self.views["TraceView"]._disconnected()  # type: ignore[attr-defined]
        self.views["LiveView"].stop()  # type: ignore[attr-defined]
        self.session.shutdown()
        self.store_sync.shutdown()
        event.accept()


_heap_frozen = False


def freeze_startup_heap() -> None:
    """Once: move what startup loaded (Qt, cantools, cryptography, our modules: some 60,000
    objects that live as long as the app) out of the cycle collector's way. Each full
    collection re-scans every tracked object with the GIL held, and stalled the GUI for
    40 ms and more during a flash; afterwards it scans only what the session created."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()
