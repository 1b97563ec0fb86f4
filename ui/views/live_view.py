"""Live data: choose an ECU and its signals, Start / Stop, the latest values with units in a
table, a scrolling strip per signal, and recording to CSV.

The reader runs on a worker thread and only appends its events to a buffer; a GUI timer
takes everything that came in per tick and updates the table and plots once, so neither a
fast ECU nor eight signals at 20 Hz stall the GUI.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import button, hbox, item, setup_table
from ui.views.live_plot import LivePlots
from workshop.diagnostics.live import LiveCycle, LiveProblem, LiveSample, LiveSummary, Signal
from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import CancelToken, Event
from workshop.services import live
from workshop.services.live_csv import LiveCsv

TICK_MS = 100
COLUMNS = ["Signal", "Value", "Unit", "Note"]
MAX_PENDING = 20000  # events waiting for the next tick; older ones go when the GUI lags


class Recording:
    """The CSV file the worker writes to, switched on and off from the GUI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._csv: LiveCsv | None = None

    def start(self, path: Path, signals: list[Signal]) -> LiveCsv:
        recorder = LiveCsv(path, signals)  # ConfigError for a bad path: nothing opened
        with self._lock:
            old, self._csv = self._csv, recorder
        if old is not None:
            old.close()
        return recorder

    def stop(self) -> LiveCsv | None:
        with self._lock:
            old, self._csv = self._csv, None
        if old is not None:
            old.close()
        return old

    def add(self, event: Event) -> None:
        with self._lock:
            if self._csv is not None:
                self._csv.add(event)


class LiveView(QWidget):
    title = "Live data"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.ecu = QComboBox()
        self.ecu.currentTextChanged.connect(self._ecu_chosen)
        self.period = QDoubleSpinBox()
        self.period.setRange(0.0, 60.0)
        self.period.setDecimals(2)
        self.period.setSingleStep(0.05)
        self.period.setSuffix(" s")
        self.period.setSpecialValueText("as fast as the ECU answers")
        self.period.setToolTip("time from one read of every signal to the next")
        self.start_button = button("Start", self.toggle)
        self.record_button = button("Record CSV…", self._choose_record)
        self.signal_list = QListWidget()
        self.signal_list.setToolTip("tick the signals to read")
        self.table = QTableWidget()
        setup_table(self.table, COLUMNS)
        self.table.setSortingEnabled(False)  # rows in the order the signals were chosen
        self.plots = LivePlots()
        self.status = QLabel("not connected")
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.signal_list)
        left.addWidget(self.table)
        left.setSizes([200, 300])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.plots)
        split.setSizes([420, 840])
        layout = QVBoxLayout(self)
        top = hbox(QLabel("ECU"), self.ecu, QLabel("Period"), self.period,
                   self.start_button, self.record_button)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.pending: deque[Event] = deque(maxlen=MAX_PENDING)
        self.recording = Recording()
        self.running: list[Signal] = []
        self.rows: dict[int, int] = {}
        self.job: Any = None
        self.sets = 0
        self.started = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        session.connected.connect(self._connected)
        session.disconnected.connect(self._disconnected)
        self._set_enabled(False)

    # -- choosing ---------------------------------------------------------------------------

    def _set_enabled(self, on: bool) -> None:
        for w in (self.ecu, self.start_button, self.signal_list, self.record_button):
            w.setEnabled(on)

    def _connected(self, conn: Any) -> None:
        self.ecu.clear()
        self.ecu.addItems([e.name for e in conn.vehicle.ecus])
        self._set_enabled(True)
        self.status.setText("choose signals and press Start")

    def _disconnected(self) -> None:
        self.stop()
        self.ecu.clear()
        self.signal_list.clear()
        self._set_enabled(False)
        self.status.setText("not connected")

    def _ecu_chosen(self, name: str) -> None:
        self.signal_list.clear()
        conn = self.session.conn
        if conn is None or not name:
            return
        for signal in live.signals(conn.vehicle, name):
            unit = f" [{signal.unit}]" if signal.unit else ""
            row = QListWidgetItem(f"{signal.did:04X}  {signal.name}{unit}")
            row.setData(Qt.ItemDataRole.UserRole, signal)
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(Qt.CheckState.Unchecked)
            self.signal_list.addItem(row)

    def choose(self, dids: list[int]) -> None:
        """Tick exactly these DIDs (tests, screenshots)."""
        for i in range(self.signal_list.count()):
            row = self.signal_list.item(i)
            signal = row.data(Qt.ItemDataRole.UserRole)
            row.setCheckState(Qt.CheckState.Checked if signal.did in dids
                              else Qt.CheckState.Unchecked)

    def chosen(self) -> list[Signal]:
        rows = (self.signal_list.item(i) for i in range(self.signal_list.count()))
        return [r.data(Qt.ItemDataRole.UserRole) for r in rows
                if r.checkState() == Qt.CheckState.Checked]

    # -- running ----------------------------------------------------------------------------

    def toggle(self) -> None:
        if self.job is not None:
            self.stop()
        else:
            self.start()

    def start(self) -> None:
        conn, signals = self.session.conn, self.chosen()
        if conn is None or self.job is not None:
            return
        if not signals:
            self.session.error.emit("no signal chosen", "tick at least one signal to read")
            return
        ecu, period = self.ecu.currentText(), self.period.value()
        self.running = signals
        self._fill_table(signals)
        self.plots.show_signals(signals)
        self.pending.clear()
        self.sets = 0
        self.started = time.monotonic()
        dids = [s.did for s in signals]
        pending, recording = self.pending, self.recording

        def sink(event: Event) -> None:
            pending.append(event)  # deque.append is atomic: no lock with the GUI thread
            recording.add(event)

        def work(_events: Any, cancel: CancelToken) -> LiveSummary:
            return live.watch(conn, ecu, dids, period_s=period, events=sink, cancel=cancel)

        self.job = self.session.run(work, on_done=self._finished, on_failed=self._failed)
        self.start_button.setText("Stop")
        for w in (self.ecu, self.signal_list, self.period):
            w.setEnabled(False)
        self.timer.start()
        self.status.setText(f"reading {len(signals)} signals of {ecu}…")

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel.cancel()

    def _finished(self, summary: LiveSummary) -> None:
        self._ended(f"stopped after {summary.cycles} reads ({summary.samples} values, "
                    f"{summary.problems} problems)")

    def _failed(self, what: str, _hint: str) -> None:
        self._ended(f"stopped: {what}")

    def _ended(self, text: str) -> None:
        self.job = None
        self.tick()
        self.timer.stop()
        saved = self.recording.stop()
        if saved is not None:
            text += f"; {saved.rows} rows in {saved.path}"
            self.record_button.setText("Record CSV…")
        self.start_button.setText("Start")
        for w in (self.ecu, self.signal_list, self.period):
            w.setEnabled(self.session.conn is not None)
        self.status.setText(text)

    # -- showing ----------------------------------------------------------------------------

    def _fill_table(self, signals: list[Signal]) -> None:
        self.table.setRowCount(len(signals))
        self.rows = {}
        for row, s in enumerate(signals):
            self.rows[s.did] = row
            for col, text in enumerate((s.name, "", s.unit, "")):
                cell = item(text)
                if col == 1:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight |
                                          Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, cell)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(1, max(self.table.columnWidth(1), 80))  # room for values

    def tick(self) -> None:
        """Everything the reader sent since the last tick: the table once, the plots once."""
        latest: dict[int, LiveSample] = {}
        problems: dict[int | None, str] = {}
        while self.pending:
            event = self.pending.popleft()
            if isinstance(event, LiveSample):
                latest[event.did] = event
                problems.pop(event.did, None)
                if event.value is not None:
                    self.plots.add(event.did, event.time, event.value)
            elif isinstance(event, LiveProblem):
                problems[event.did] = event.message
            elif isinstance(event, LiveCycle):
                self.sets += 1
        for did, sample in latest.items():
            value, note = self._cells(did)
            if value is not None and note is not None:
                value.setText(self._number(sample))
                note.setText("")
        for where, message in problems.items():
            value, note = self._cells(where)
            if note is None:
                self.status.setText(message)
                continue
            note.setText(message)
            note.setToolTip(message)
            note.setForeground(item("", "failed").foreground())
        self.plots.draw()
        if self.job is not None and latest:
            rate = self.sets / max(time.monotonic() - self.started, 1e-3)
            self.status.setText(f"reading {len(self.running)} signals of "
                                f"{self.ecu.currentText()}: {self.sets} reads, "
                                f"{rate:.1f} per second" +
                                (" (recording)" if self.record_button.text() != "Record CSV…"
                                 else ""))

    def _cells(self, did: int | None) -> tuple[QTableWidgetItem | None, QTableWidgetItem | None]:
        """The value and note cells of a DID's row (None, None: not shown)."""
        row = self.rows.get(did) if did is not None else None
        if row is None:
            return None, None
        return self.table.item(row, 1), self.table.item(row, 3)

    @staticmethod
    def _number(sample: LiveSample) -> str:
        text = sample.text
        return text[: -len(sample.unit)].strip() if sample.unit and \
            text.endswith(sample.unit) else text

    # -- recording --------------------------------------------------------------------------

    def record(self, path: Path | None) -> None:
        """Record what is read to `path` (None: stop recording)."""
        if path is None:
            saved = self.recording.stop()
            self.record_button.setText("Record CSV…")
            if saved is not None:
                self.status.setText(f"{saved.rows} rows written to {saved.path}")
            return
        signals = self.running if self.job is not None else self.chosen()
        if not signals:
            self.session.error.emit("no signal chosen", "tick the signals to record first")
            return
        try:
            self.recording.start(path, signals)
        except WorkshopError as exc:
            self.session.error.emit(exc.message, exc.hint or "")
            return
        self.record_button.setText("Stop recording")

    def _choose_record(self) -> None:
        if self.record_button.text() != "Record CSV…":
            self.record(None)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Record live data", "live.csv",
                                              "CSV (*.csv)")
        if path:
            self.record(Path(path))
