"""Audit: the log as a table, filter by VIN, ECU or action, verify with the result shown,
export for another machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import button, hbox, item, setup_table
from workshop.audit.wording import describe_record
from workshop.foundation.events import CancelToken
from workshop.services import audit_trail

COLUMNS = ["Seq", "Time", "Action", "Phase", "VIN", "ECU", "Technician", "Details"]
SHOWN = 2000


class AuditView(QWidget):
    title = "Audit"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by VIN, ECU or action")
        self.filter.textChanged.connect(self._apply_filter)
        self.verify_button = button("Verify", self.verify)
        self.table = QTableWidget()
        setup_table(self.table, COLUMNS)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # newest record first
        self.result = QPlainTextEdit()
        self.result.setReadOnly(True)
        self.result.setMaximumHeight(120)
        layout = QVBoxLayout(self)
        layout.addLayout(hbox(self.filter, button("Refresh", self.refresh), self.verify_button,
                             button("Export…", self._choose_export)))
        layout.addWidget(self.table)
        layout.addWidget(self.result)

    def refresh(self) -> None:
        def work(_e: Any, _c: CancelToken) -> Any:
            return audit_trail.recent_records(SHOWN)

        self.session.run(work, on_done=self._show)

    def _show(self, found: Any) -> None:
        records, result = found
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(records))
        for row, r in enumerate(records):
            phase = str(r.details.get("phase", ""))
            values = [r.seq, r.time, r.action, phase, r.vin or "", r.ecu or "", r.technician,
                      describe_record(r.action, r.details)]
            for col, v in enumerate(values):
                cell = item(v)
                if col == 0:  # sorts as a number, not as text ("10" after "9")
                    cell = QTableWidgetItem()
                    cell.setData(Qt.ItemDataRole.EditRole, int(r.seq))
                if col == len(values) - 1:
                    cell.setToolTip(str(v))
                self.table.setItem(row, col, cell)
        self.table.setSortingEnabled(True)
        for col in range(len(COLUMNS) - 1):  # time, VIN and ECU whole; Details stretches
            self.table.resizeColumnToContents(col)
        self._apply_filter(self.filter.text())
        self._show_verdict(result)

    def verify(self) -> None:
        def work(_e: Any, _c: CancelToken) -> Any:
            return audit_trail.verify_log()

        self.session.run(work, on_done=self._show_verdict)

    def _show_verdict(self, result: Any) -> None:
        lines = [f"{'VERIFIED' if result.ok else 'NOT VERIFIED'}: {result.records} records, "
                 f"last #{result.last_seq}"]
        lines += [f"problem at #{p.seq}: {p.reason}" for p in result.problems[:20]]
        lines += [f"signer {s.workstation}: {s.status} {s.detail}".strip()
                  for s in result.signers.values()]
        lines += list(result.notes)
        self.result.setPlainText("\n".join(lines))

    def _apply_filter(self, text: str) -> None:
        needle = text.lower()
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, c) for c in (2, 4, 5)]
            self.table.setRowHidden(row, bool(needle) and not any(
                c is not None and needle in c.text().lower() for c in cells))

    def export(self, path: Path) -> None:
        def work(_e: Any, _c: CancelToken) -> int:
            return audit_trail.export_local_log(path)

        self.session.run(work, on_done=lambda n: self.result.setPlainText(
            f"exported {n} records to {path}"))

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export audit log", "audit.jsonl",
                                              "JSON lines (*.jsonl)")
        if path:
            self.export(Path(path))
