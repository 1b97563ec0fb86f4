"""Bus trace: live frames (time, id, dlc, data, direction), filter by id, pause, clear,
record to ASC/BLF/candump, decode with a DBC. Over DoIP the rows are DoIP messages: source
and target logical address, length, UDS payload, and payload type with the UDS service.
Frames arrive in batches on a timer into a model with a bounded row count, so a saturated
bus neither stalls the GUI nor grows memory."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import button, hbox
from workshop.foundation.errors import WorkshopError
from workshop.services.trace import BusTrace, DbcDecoder, DoipTraceFrame, Frame

MAX_ROWS = 5000
POLL_MS = 100
DOIP_DATA_SHOWN = 32  # bytes of a DoIP payload shown (TransferData carries up to 64 KiB)
COLUMNS = ["Time", "Dir", "ID / address", "DLC / length", "Data", "Signals / UDS"]
Index = QModelIndex | QPersistentModelIndex


class FrameModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: deque[Frame] = deque(maxlen=MAX_ROWS)
        self.decoder: DbcDecoder | None = None
        self.t0: float | None = None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        f = self.rows[index.row()]
        col = index.column()
        if col == 0:
            return f"{f.time - (self.t0 or f.time):10.4f}"
        if col == 1:
            return f.direction
        if isinstance(f, DoipTraceFrame):
            return _doip_cell(f, col)
        if col == 2:
            return f"{f.id:08X}" if f.extended else f"{f.id:03X}"
        if col == 3:
            return str(f.dlc)
        if col == 4:
            return f.data.hex(" ").upper()
        return self.decoder.decode(f) if self.decoder else ""

    def append(self, frames: list[Frame]) -> None:
        if not frames:
            return
        if self.t0 is None:
            self.t0 = frames[0].time
        frames = frames[-MAX_ROWS:]
        # Incremental changes: a model reset makes the view lay out every row again, which
        # at a few thousand frames a second stalls the GUI thread for tens of milliseconds.
        overflow = len(self.rows) + len(frames) - MAX_ROWS
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                self.rows.popleft()
            self.endRemoveRows()
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(frames) - 1)
        self.rows.extend(frames)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows.clear()
        self.t0 = None
        self.endResetModel()


def _doip_cell(f: DoipTraceFrame, col: int) -> str:
    if col == 2:
        return f.addresses
    if col == 3:
        return str(f.length)
    if col == 4:
        shown = f.data[:DOIP_DATA_SHOWN].hex(" ").upper()
        return shown + (" \u2026" if f.length > DOIP_DATA_SHOWN else "")
    return f.decoded()


class TraceView(QWidget):
    title = "Bus trace"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.trace: BusTrace | None = None
        self.model = FrameModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setDefaultSectionSize(20)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.setColumnWidth(2, 130)  # DoIP: "0E00 → 1001"
        self.view.setColumnWidth(4, 190)
        self.id_filter = QLineEdit()
        self.id_filter.setPlaceholderText("IDs or DoIP addresses (hex, comma separated)")
        self.id_filter.textChanged.connect(self._refilter)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause)
        self.record_button = button("Record…", self._choose_record)
        self.status = QLabel("not connected")
        self.shown = 0
        layout = QVBoxLayout(self)
        layout.addLayout(hbox(self.id_filter, self.pause_button, button("Clear", self.clear),
                             self.record_button, button("Load DBC…", self._choose_dbc)))
        layout.addWidget(self.view)
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        session.connected.connect(self._connected)
        session.disconnected.connect(self._disconnected)
        self.recording: Path | None = None
        self.dbc_note = ""
        self._stale = False

    def _connected(self, conn: Any) -> None:
        self.trace = BusTrace(conn)
        self.timer.start()

    def _disconnected(self) -> None:
        self.timer.stop()
        if self.trace is not None:
            self.trace.close()
            self.trace = None

    def _ids(self) -> set[int] | None:
        text = self.id_filter.text().strip()
        if not text:
            return None
        try:
            return {int(x, 16) for x in text.replace(" ", "").split(",") if x}
        except ValueError:
            return None

    def _refilter(self, _text: str) -> None:
        """A filter applies to the rows already shown too: they are laid out again from the
        trace's recent frames (now, or when the view is next shown)."""
        self._stale = True
        self.poll()

    def poll(self) -> None:
        if self.trace is None:
            return
        frames = self.trace.take()
        ids = self._ids()
        if ids is not None:
            frames = [f for f in frames if f.id in ids]
        self.shown += len(frames)
        if not self.isVisible():
            # Hidden (the technician is on another view, e.g. flashing): keep the frames in
            # the trace's buffer and lay out rows only when the view is shown again.
            self._stale = True
            return
        if self._stale:
            self._stale = False
            self.model.clear()
            recent = self.trace.recent(MAX_ROWS)
            frames = recent if ids is None else [f for f in recent if f.id in ids]
        self.model.append(frames)
        if frames and not self.pause_button.isChecked() and self.isVisible():
            self.view.scrollToBottom()
        rec = f"; recording to {self.recording.name}" if self.recording else ""
        self.status.setText(f"{self.trace.seen} frames seen, {len(self.model.rows)} shown "
                            f"(last {MAX_ROWS}){rec}{self.dbc_note}")

    def _pause(self, paused: bool) -> None:
        if self.trace is not None:
            self.trace.paused = paused

    def clear(self) -> None:
        if self.trace is not None:
            self.trace.clear()
        self.model.clear()

    def record(self, path: Path | None) -> None:
        if self.trace is None:
            return
        if path is None:
            self.trace.stop_recording()
            self.recording = None
            self.record_button.setText("Record…")
            return
        try:
            self.trace.record(path)
        except WorkshopError as exc:
            self.session.error.emit(exc.message, exc.hint or "")
            return
        self.recording = path
        self.record_button.setText("Stop recording")

    def _choose_record(self) -> None:
        if self.recording is not None:
            self.record(None)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Record trace", "trace.asc",
                                              "Traces (*.asc *.blf *.log)")
        if path:
            self.record(Path(path))

    def load_dbc(self, path: Path) -> None:
        try:
            decoder = DbcDecoder(path)
        except WorkshopError as exc:
            self.session.error.emit(exc.message, exc.hint or "")
            return
        self.model.decoder = decoder
        lenient = " (loaded leniently: it breaks DBC rules, e.g. overlapping signals)" \
            if decoder.lenient else ""
        self.dbc_note = f"; DBC {path.name}: {decoder.messages} messages{lenient}"
        if self.model.rows:  # the rows already shown get their signals too
            self.model.dataChanged.emit(self.model.index(0, 5),
                                        self.model.index(len(self.model.rows) - 1, 5))

    def _choose_dbc(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "DBC", "", "DBC (*.dbc)")
        if path:
            self.load_dbc(Path(path))
