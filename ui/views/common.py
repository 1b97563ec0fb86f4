"""Small pieces the views share: verdict colours (always with text), table helpers."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

# Colour is a second channel, never the only one: every verdict is also written out.
VERDICT_COLOURS = {"approved": "#256b29", "success": "#256b29", "outdated": "#9a4507",
                   "rolled_back": "#9a4507", "unapproved": "#b71c1c", "failed": "#b71c1c",
                   "refused": "#b71c1c", "missing": "#b71c1c", "unknown": "#616161",
                   "incomplete": "#9a4507", "resumable": "#ad1457", "no answer": "#b71c1c"}


def item(text: object, verdict: str | None = None) -> QTableWidgetItem:
    cell = QTableWidgetItem("" if text is None else str(text))
    if verdict in VERDICT_COLOURS:
        cell.setForeground(QColor(VERDICT_COLOURS[verdict]))
    return cell


def setup_table(table: QTableWidget, headers: list[str]) -> None:
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSortingEnabled(True)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # the user drags widths
    # rows in a fixed order (the first column: the ECU name), not in the order ECUs answered
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)


def find_row(table: QTableWidget, column: int, text: str) -> int:
    for row in range(table.rowCount()):
        cell = table.item(row, column)
        if cell is not None and cell.text() == text:
            return row
    return -1


def button(text: str, slot: Callable[[], object]) -> QPushButton:
    b = QPushButton(text)
    b.clicked.connect(slot)
    return b


def hbox(*widgets: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    for w in widgets:
        layout.addWidget(w)
    return layout
