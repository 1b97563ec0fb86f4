"""Faults: every DTC of the last scan (ECU, code, text, status in words), filter and sort; the
selected one as a readable panel (status bits with their meaning, snapshot and extended data by
name and unit, decoded by workshop.diagnostics.dtc_details; hex only under "Show raw bytes");
clear one ECU or all, confirmed and audited."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import item, setup_table
from workshop.diagnostics.dtc_details import DtcDetails, describe, status_words
from workshop.diagnostics.scan import VehicleScan
from workshop.foundation.events import CancelToken
from workshop.services import diagnose
from workshop.services.audit_trail import open_audit_log

COLUMNS = ["ECU", "Code", "Text", "Status"]


class FaultsView(QWidget):
    title = "Faults"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by code, text or ECU")
        self.filter.textChanged.connect(self._apply_filter)
        self.read_button = QPushButton("Read DTCs")
        self.read_button.clicked.connect(self.read)
        self.clear_ecu_button = QPushButton("Clear selected ECU…")
        self.clear_ecu_button.clicked.connect(self.clear_selected_ecu)
        self.clear_all_button = QPushButton("Clear all ECUs…")
        self.clear_all_button.clicked.connect(self.clear_all)
        self.table = QTableWidget()
        setup_table(self.table, COLUMNS)
        self.table.itemSelectionChanged.connect(self._show_detail)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.raw = QCheckBox("Show raw bytes")
        self.raw.setToolTip("the status byte and each value as the ECU sent it, in hex")
        self.raw.toggled.connect(self._show_detail)
        detail_box = QWidget()
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail, 1)
        detail_layout.addWidget(self.raw)
        self.status = QLabel("")
        self.outcome = QPlainTextEdit()  # what the last clear did, ECU by ECU
        self.outcome.setReadOnly(True)
        self.outcome.setMaximumHeight(90)
        bar = QHBoxLayout()
        for w in (self.filter, self.read_button, self.clear_ecu_button, self.clear_all_button):
            bar.addWidget(w)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(detail_box)
        split.setSizes([560, 440])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.outcome)
        self._dtcs: list[tuple[str, Any]] = []
        self._scan: VehicleScan | None = None  # its ECUs' ODX variants word the details
        session.scan_done.connect(self.show_scan)
        session.dtcs_read.connect(self.show_scan)

    def confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Clear DTCs", text)
        return answer == QMessageBox.StandardButton.Yes

    def read(self) -> None:
        self.session.read_dtcs()

    def show_scan(self, scan: VehicleScan) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        self._dtcs = []
        self._scan = scan
        for e in scan.ecus:
            if e.error and not e.dtcs:
                row = self.table.rowCount()
                self.table.insertRow(row)
                for col, v in enumerate([e.name, "—", f"DTCs not read: {e.error}", ""]):
                    self.table.setItem(row, col, item(v, "failed" if col == 2 else None))
                self._dtcs.append((e.name, None))
                continue
            for d in e.dtcs:
                row = self.table.rowCount()
                self.table.insertRow(row)
                for col, v in enumerate([e.name, d.code, d.text, status_words(d.status)]):
                    self.table.setItem(row, col, item(v))
                first = self.table.item(row, 0)
                if first is not None:
                    first.setData(256, len(self._dtcs))
                self._dtcs.append((e.name, d))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()
        total = sum(1 for _, d in self._dtcs if d is not None)
        self.status.setText(f"{total} DTC(s) on {len(scan.ecus)} ECU(s)")
        self._apply_filter(self.filter.text())

    def _apply_filter(self, text: str) -> None:
        needle = text.lower()
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, c) for c in range(self.table.columnCount())]
            visible = not needle or any(c is not None and needle in c.text().lower()
                                        for c in cells)
            self.table.setRowHidden(row, not visible)

    def _selected(self) -> tuple[str, Any] | None:
        rows = {i.row() for i in self.table.selectedItems()}
        if not rows:
            return None
        cell = self.table.item(min(rows), 0)
        index = cell.data(256) if cell is not None else None
        if index is None:
            return (cell.text(), None) if cell is not None else None
        return self._dtcs[int(index)]

    def _show_detail(self) -> None:
        chosen = self._selected()
        if chosen is None or chosen[1] is None:
            self.detail.setHtml("")
            return
        conn = self.session.conn
        scans = [self._scan] if self._scan is not None else []
        source = diagnose.vehicle_descriptions(conn, scans).for_ecu(chosen[0])
        self.detail.setHtml(detail_html(describe(chosen[0], chosen[1], source),
                                        raw=self.raw.isChecked()))

    def clear_selected_ecu(self) -> None:
        chosen = self._selected()
        conn = self.session.conn
        if chosen is None or conn is None:
            self.status.setText("Select a DTC (or an ECU row) first.")
            return
        ecu = chosen[0]
        codes = [d.code for n, d in self._dtcs if n == ecu and d is not None]
        if not self.confirm(f"Clear all {len(codes)} DTC(s) of {ecu} ({', '.join(codes)})? "
                            "Snapshot and extended data are erased too; this is audited."):
            return

        self._audited_clear(lambda conn, log, events, cancel: [
            diagnose.clear_ecu(conn, ecu, log, events=events, cancel=cancel)])

    def clear_all(self) -> None:
        conn = self.session.conn
        if conn is None:
            return
        total = sum(1 for _, d in self._dtcs if d is not None)
        if not self.confirm(f"Clear the DTCs of every ECU ({total} known now) with one "
                            "functional request? This is audited."):
            return

        self._audited_clear(lambda conn, log, events, cancel: diagnose.clear_all(
            conn, log, events=events, cancel=cancel))

    def _audited_clear(self, clear: Any) -> None:
        conn = self.session.conn
        self.session.before_audited_work()

        def work(events: Any, cancel: CancelToken) -> Any:
            assert conn is not None
            log = open_audit_log(simulated=conn.adapter.is_simulated,
                                 ask=self.session.audit_ask)
            return clear(conn, log, events, cancel)

        self.session.run(work, on_done=self._cleared)

    def _cleared(self, results: list[Any]) -> None:
        self.session.history.clears.extend(results)
        lines = [f"{r.ecu}: {'cleared' if r.ok else 'NOT cleared: ' + r.detail}"
                 + (f"; still stored: {', '.join(r.remaining)}" if r.remaining else "")
                 for r in results]
        self.outcome.setPlainText("\n".join(lines))
        self.read()


def detail_html(d: DtcDetails, *, raw: bool) -> str:
    """The panel: what the fault is, each status bit set (and, with raw, every bit), the
    snapshot and extended values by name and unit."""
    e = html.escape
    out = [f"<h3>{e(d.code)} · {e(d.ecu)}</h3><p>{e(d.text)}</p>",
           f"<p><b>Status:</b> {e(d.status_words)}"
           + (f" <tt>(0x{d.status:02X})</tt>" if raw else "") + "</p><table cellpadding='2'>"]
    for b in d.bits:
        if b.set or raw:
            mark = "●" if b.set else "○"
            name = f" <tt>{e(b.name)}</tt>" if raw else ""
            out.append(f"<tr><td>{mark}</td><td><b>{e(b.words)}</b>{name}</td>"
                       f"<td>{e(b.meaning)}</td></tr>")
    out.append("</table>")
    for snap in d.snapshots:
        out.append(f"<p><b>Snapshot record {snap.record}</b> (conditions when it was stored)"
                   "</p>" + _values(snap.values, raw))
    if d.extended:
        out.append("<p><b>Extended data</b></p>" + _values(d.extended, raw))
    return "".join(out)


def _values(values: Any, raw: bool) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{e(v.label)}</td><td><b>{e(v.text)}</b></td>"
                   + (f"<td><tt>{e(v.raw)}</tt></td>" if raw else "") + "</tr>"
                   for v in values)
    return f"<table cellpadding='2'>{rows}</table>"
