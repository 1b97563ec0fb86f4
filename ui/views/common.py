"""Small pieces the views share: verdict colours (always with text), table helpers."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTableWidget, QTableWidgetItem, QWidget

# Colour is a second channel, never the only one: every verdict is also written out.
VERDICT_COLOURS = {"approved": "#2e7d32", "success": "#2e7d32", "outdated": "#ef6c00",
                   "rolled_back": "#ef6c00", "unapproved": "#c62828", "failed": "#c62828",
                   "refused": "#c62828", "missing": "#c62828", "unknown": "#757575",
                   "incomplete": "#ef6c00", "resumable": "#ad1457", "no answer": "#c62828"}


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
    table.horizontalHeader().setStretchLastSection(True)


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
