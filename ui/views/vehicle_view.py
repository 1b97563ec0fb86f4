"""Vehicle: VIN, model, and every ECU with addresses, part numbers, software version and its
baseline verdict; rows fill in as each ECU answers."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import VERDICT_COLOURS, find_row, item, setup_table
from workshop.diagnostics.scan import EcuScan, VehicleScan
from workshop.foundation.events import CancelToken, EcuFinished, Event
from workshop.foundation.text import printable
from workshop.services import baseline_check

COLUMNS = ["ECU", "Address", "Part number", "Software", "Hardware", "Baseline", "State"]
IN_BOOTLOADER = "in its bootloader: a flash was interrupted (Resume finishes it)"


class VehicleView(QWidget):
    title = "Vehicle"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.vin = QLabel("VIN: not read")
        self.model = QLabel("Vehicle: not connected")
        self.scan_button = QPushButton("Scan (F5)")
        self.scan_button.clicked.connect(self.session.start_scan)
        self.progress = QProgressBar()
        self.table = QTableWidget()
        setup_table(self.table, COLUMNS)
        # An ECU an interrupted flash left in its bootloader: said above the table, with the
        # button that finishes the flash (the Update view runs it, as any flash).
        self.boot_note = QLabel("")
        self.boot_note.setWordWrap(True)
        self.boot_note.setStyleSheet(f"color: {VERDICT_COLOURS['resumable']}")
        self.resume_button = QPushButton("Resume the interrupted flash")
        self.resume_button.setToolTip("Finish the flash that was interrupted, from where it "
                                      "stopped (same as 'workshop flash resume')")
        self.resume_button.clicked.connect(self.session.resume_requested.emit)
        self.boot_row = QWidget()
        boot = QHBoxLayout(self.boot_row)
        boot.setContentsMargins(0, 0, 0, 0)
        boot.addWidget(self.boot_note, 1)
        boot.addWidget(self.resume_button)
        self.boot_row.hide()
        top = QHBoxLayout()
        for w in (self.model, self.vin):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.progress)
        top.addWidget(self.scan_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.boot_row)
        layout.addWidget(self.table)
        session.connected.connect(self._connected)
        session.disconnected.connect(lambda: self.model.setText("Vehicle: not connected"))
        session.scan_event.connect(self._event)
        session.scan_done.connect(self._done)
        self._expected = 0

    def _connected(self, conn: Any) -> None:
        v = conn.vehicle
        self.model.setText(f"Vehicle: {v.model} ({v.name})")
        self.table.setRowCount(0)
        self.boot_row.hide()
        self._expected = len(v.ecus)
        self.progress.setRange(0, max(self._expected, 1))
        self.progress.setValue(0)

    def _event(self, event: Event) -> None:
        if isinstance(event, EcuFinished) and isinstance(event.result, EcuScan):
            self._put(event.result)
            self.progress.setValue(min(self.progress.value() + 1, self.progress.maximum()))

    def _put(self, e: EcuScan, verdict: str | None = None, detail: str = "") -> None:
        self.table.setSortingEnabled(False)
        row = find_row(self.table, 0, e.name)
        if row < 0:
            row = self.table.rowCount()
            self.table.insertRow(row)
        state = "no answer" if not e.responded else (e.error or "answered")
        if e.in_bootloader:
            state = IN_BOOTLOADER
        elif e.responded and e.identity.failed:
            missing = ", ".join(f"{k}: {v}" for k, v in e.identity.failed_by_name().items())
            state = f"partial: {missing}"
        values = [e.name, e.address, e.identity.part_number, e.identity.software_version,
                  e.identity.hardware_number, verdict or "…", state]
        for col, value in enumerate(values):
            cell = item(value, verdict if col == 5 else
                        ("no answer" if state == "no answer" and col == 6 else
                         "resumable" if e.in_bootloader and col == 6 else None))
            if col == 5 and detail:
                cell.setToolTip(detail)
            if col == 0:
                cell.setToolTip(_identification(e))
            self.table.setItem(row, col, cell)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()

    def _done(self, scan: VehicleScan) -> None:
        self.vin.setText(f"VIN: {scan.vin or 'not reported'}"
                         + (f" ({scan.vin_problem})" if scan.vin_problem else ""))
        self.progress.setValue(self.progress.maximum())
        for e in scan.ecus:
            self._put(e)
        stuck = scan.in_bootloader
        self.boot_note.setText(
            f"{', '.join(stuck)} {'sit' if len(stuck) > 1 else 'sits'} in the bootloader: a "
            "flash was interrupted and the ECU runs no software until it is finished. "
            "Keep the ignition on and press Resume." if stuck else "")
        self.boot_row.setVisible(bool(stuck))
        conn = self.session.conn
        if conn is None:
            return

        def work(_events: Any, _cancel: CancelToken) -> list[Any]:
            return baseline_check.verdicts_for(scan, conn.adapter, conn.vehicle.name)

        self.session.run(work, on_done=lambda verdicts: self._verdicts(scan, verdicts))

    def _verdicts(self, scan: VehicleScan, verdicts: list[Any]) -> None:
        self.session.set_verdicts(verdicts)
        by_name = {v.ecu: v for v in verdicts}
        for e in scan.ecus:
            v = by_name.get(e.name)
            if e.in_bootloader:  # no software runs: there is no version to judge
                self._put(e, "in bootloader", "no software runs until the interrupted flash "
                                              "is finished (Resume)")
            elif v is not None:
                self._put(e, v.verdict, v.detail + (f" (fix: {v.package})" if v.package else ""))


def _identification(e: EcuScan) -> str:
    """Every value the ECU identified itself with, in words (its description's where it has
    one), for the ECU cell's tooltip."""
    lines = [f"variant {e.variant} (ODX)"] if e.variant else []
    lines += [e.variant_note] if e.variant_note else []
    lines += [f"{k}: {v}" for k, v in e.identity.by_name().items()]
    return printable("\n".join(lines), layout=True)
