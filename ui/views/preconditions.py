"""The programming preconditions as a checklist with live readings: what each planned ECU
measures now (battery, speed, ignition) and whether it would let the flash start. Re-read
every few seconds while the plan is on screen and nothing is being flashed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QTableWidget, QVBoxLayout, QWidget

from ui.session import Session
from ui.views.common import item, setup_table
from workshop.flash.plan import FlashPlan
from workshop.foundation.events import CancelToken
from workshop.services.flash import PreconditionReading, read_preconditions_now

COLUMNS = ["ECU", "Battery", "Vehicle speed", "Ignition", "Preconditions"]
REFRESH_MS = 2000


class PreconditionsPanel(QWidget):
    changed = Signal(bool)  # every planned ECU reports its preconditions met

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.note = QLabel("Preconditions: read live once a plan is ready to flash.")
        self.note.setWordWrap(True)
        self.table = QTableWidget()
        setup_table(self.table, COLUMNS)
        self.table.setSortingEnabled(False)
        self.table.hide()  # until there is something to read
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.plan: FlashPlan | None = None
        self._reading = False
        self.all_met = False
        self.readings: list[PreconditionReading] = []
        session.disconnected.connect(self.stop)

    def watch(self, plan: FlashPlan | None) -> None:
        """Start the live checklist for `plan` (stops when None)."""
        self.plan = plan
        self.table.setRowCount(0)
        self.all_met = False
        if plan is None or not plan.ecus:
            self.table.hide()
            self.stop("read live once a plan is ready to flash.")
            return
        self.note.setText("Preconditions: reading…")
        self.refresh()
        self.timer.start()

    def stop(self, why: str = "") -> None:
        self.timer.stop()
        if why:
            self.note.setText(f"Preconditions: {why}")

    def refresh(self) -> None:
        conn, plan = self.session.conn, self.plan
        if conn is None or plan is None or self._reading:
            return
        self._reading = True

        def work(_events: Any, _cancel: CancelToken) -> list[PreconditionReading]:
            return read_preconditions_now(conn, plan)

        self.session.runner.start(work, on_done=self._read_done, on_failed=self._failed)

    def _failed(self, what: str, hint: str) -> None:
        self._reading = False
        self.note.setText(f"Preconditions could not be read: {what}. {hint}")

    def show_readings(self, readings: list[PreconditionReading]) -> None:
        self.readings = readings
        self.table.show()
        self.table.setRowCount(len(readings))
        for row, r in enumerate(readings):
            f = r.found
            if f is None:
                cells = [r.ecu, "", "", "", r.error or "no preconditions routine"]
                verdict = "failed" if r.error else "unknown"
            else:
                cells = [r.ecu,
                         "" if f.battery_mv is None else f"{f.battery_mv / 1000:.1f} V",
                         "" if f.speed_kmh is None else f"{f.speed_kmh} km/h",
                         "" if f.ignition is None else ("on" if f.ignition else "OFF"),
                         "met" if f.met else "NOT MET: " + ", ".join(f.failed or ("?",))]
                verdict = "success" if f.met else "failed"
            for col, text in enumerate(cells):
                self.table.setItem(row, col, item(text, verdict if col == 4 else None))
        self.table.resizeColumnsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(len(readings)))
        self.table.setFixedHeight(min(150, self.table.horizontalHeader().height() + rows + 4))
        self.all_met = all(r.error == "" and (r.found is None or r.found.met)
                           for r in readings)
        self.note.setText(
            "Preconditions: all met (read live every 2 s)." if self.all_met else
            "Preconditions NOT met: the flash waits. Stop the vehicle, switch the ignition "
            "on and connect a battery charger; the list updates by itself.")
        self.changed.emit(self.all_met)

    def _read_done(self, readings: list[PreconditionReading]) -> None:
        self._reading = False
        if self.timer.isActive():  # not stopped meanwhile (flash started, disconnected)
            self.show_readings(readings)
