"""Settings: who the technician is, where packages, the audit log and the trust store are,
and the theme. Saved per user (the same file `workshop settings` edits); a wrong value is
refused with what is wrong, and the saved file is left as it was."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.store_settings import StoreSettings
from ui.views.common import VERDICT_COLOURS
from workshop.foundation.errors import ConfigError
from workshop.foundation.settings import Settings, load_settings, save_settings, settings_path

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
FOLDERS = {"package_dir": "Package store", "audit_dir": "Audit log folder",
           "trust_dir": "Trust store"}
FOLDER_NOTES = {
    "audit_dir": "New records go to the log in this folder; an existing log is not moved.",
    "trust_dir": "Empty: the store the installer laid down. For a real vehicle it must not be "
                 "writable by other accounts.",
}


class SettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        try:
            current = load_settings()
            problem = ""
        except ConfigError as exc:
            current, problem = Settings(), f"{exc.message}. {exc.hint or ''}"
        self.saved: Settings | None = None
        self._current = current  # kept: what this dialog does not show (adapter)
        self.workshop = QLineEdit(current.workshop_name)
        self.workshop.setPlaceholderText("name and town, as the customer report shows it")
        self.name = QLineEdit(current.technician_name)
        self.name.setPlaceholderText("as it appears in audit records and reports")
        self.ident = QLineEdit(current.technician_id)
        self.ident.setPlaceholderText("dealer or employee number")
        self.folders: dict[str, QLineEdit] = {}
        form = QFormLayout()
        form.addRow("Workshop", self.workshop)
        form.addRow("Technician name", self.name)
        form.addRow("Technician id", self.ident)
        for key, label in FOLDERS.items():
            edit = QLineEdit(getattr(current, key))
            edit.setPlaceholderText("default (per-user data folder)" if key != "trust_dir"
                                    else "default (installed trust store)")
            self.folders[key] = edit
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _=False, e=edit, t=label: self._browse(e, t))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            form.addRow(label, row)
            if key in FOLDER_NOTES:
                note = QLabel(FOLDER_NOTES[key])
                note.setWordWrap(True)
                form.addRow("", note)
        self.theme = QComboBox()
        for key, label in THEME_LABELS.items():
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(list(THEME_LABELS).index(current.theme))
        form.addRow("Theme", self.theme)
        self.store = StoreSettings(current, form)
        self.problem = QLabel(problem)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {VERDICT_COLOURS['failed']}")
        where = QLabel(f"Saved for this user in {settings_path()}")
        where.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(where)
        layout.addWidget(buttons)

    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text())
        if folder:
            edit.setText(folder)

    def values(self) -> Settings:
        # by name: Any, as Settings holds a few values that are not text (the DoIP gateway's)
        texts: dict[str, Any] = {
            **self.store.values(),
            **{k: str(Path(e.text().strip()).expanduser()) if e.text().strip() else ""
               for k, e in self.folders.items()}}
        return replace(self._current, workshop_name=self.workshop.text().strip(),
                       technician_name=self.name.text().strip(),
                       technician_id=self.ident.text().strip(),
                       theme=str(self.theme.currentData()), **texts)

    def save(self) -> None:
        try:
            settings = self.values()
            save_settings(settings)
        except ConfigError as exc:
            self.problem.setText(f"Not saved: {exc.message}. {exc.hint or ''}")
            return
        self.saved = settings
        self.accept()

    def done(self, result: int) -> None:
        self.store.shutdown()  # a connection test still running is waited for, not leaked
        super().done(result)
