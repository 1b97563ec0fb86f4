"""The Settings dialog's central-store rows: the workstation's connection string, the one the
Fleet view answers with, how often the app syncs, and "Test connection" (run on a worker
thread: a dead host takes seconds to give up, the dialog stays responsive)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ui.views.common import VERDICT_COLOURS
from ui.workers import Runner
from workshop.foundation.errors import ConfigError, WorkshopError
from workshop.foundation.events import CancelToken
from workshop.foundation.settings import SYNC_SECONDS, Settings

_EXAMPLE = "host=store.dealer.example dbname=workshop user=ws-0042 sslmode=verify-full"


def try_store(dsn: str) -> str:
    """Worker-thread work: connect, and say who we are and what the server is."""
    try:
        from workshop.store.session import StoreSession
    except ImportError as exc:
        raise ConfigError("this installation lacks the PostgreSQL driver",
                          hint="pip install 'workshop[store]'") from exc
    with StoreSession(dsn) as store:
        role = store.role()
        store.tail("")  # a read every role may make: "not a workshop store" if it is not
    return f"Connected as {role}: the central store answers."


def check_dsn(dsn: str, label: str) -> None:
    """ConfigError in words if `dsn` is not a connection string (nothing is saved then)."""
    if not dsn:
        return
    try:
        from workshop.store.dsn import parse
    except ImportError as exc:
        raise ConfigError("the central store needs the PostgreSQL driver, which this "
                          "installation lacks", hint="pip install 'workshop[store]'") from exc
    try:
        parse(dsn)
    except WorkshopError as exc:
        raise ConfigError(f"{label}: {exc.message}", hint=exc.hint) from exc


class StoreSettings(QWidget):
    def __init__(self, current: Settings, form: QFormLayout) -> None:
        super().__init__()
        self.runner = Runner(self)
        self.store = QLineEdit(current.store)
        self.store.setPlaceholderText(f"none (work stays local); e.g. {_EXAMPLE}")
        self.fleet = QLineEdit(current.fleet_store)
        self.fleet.setPlaceholderText("the store above; an auditor's role sees every "
                                      "workstation")
        self.period = QSpinBox()
        self.period.setRange(*SYNC_SECONDS)
        self.period.setSuffix(" s")
        self.period.setValue(current.sync_seconds)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.store, 1)
        row.addWidget(self.test_button)
        form.addRow("Central store", row)
        note = QLabel("Records sync in the background; without the store everything works "
                      "and waits. Keep passwords in ~/.pgpass, not here.")
        note.setWordWrap(True)
        form.addRow("", note)
        form.addRow("", self.result)
        form.addRow("Sync every", self.period)
        form.addRow("Fleet view reads as", self.fleet)

    def values(self) -> dict[str, str]:
        store, fleet = self.store.text().strip(), self.fleet.text().strip()
        check_dsn(store, "Central store")
        check_dsn(fleet, "Fleet view reads as")
        seconds = self.period.value()
        return {"store": store, "fleet_store": fleet,
                "store_sync_seconds": "" if seconds == 60 else str(seconds)}

    def test(self) -> None:
        dsn = self.fleet.text().strip() if not self.store.text().strip() else \
            self.store.text().strip()
        try:
            check_dsn(dsn, "Central store")
        except ConfigError as exc:
            self._said(exc.message, exc.hint or "", ok=False)
            return
        if not dsn:
            self._said("No store named", "type its connection string first", ok=False)
            return
        self.test_button.setEnabled(False)
        self.result.setStyleSheet("")
        self.result.setText("Connecting…")

        def work(_e: Any, _c: CancelToken) -> str:
            return try_store(dsn)

        self.runner.start(work, on_done=lambda text: self._said(text, "", ok=True),
                          on_failed=lambda what, hint: self._said(what, hint, ok=False))

    def _said(self, what: str, hint: str, *, ok: bool) -> None:
        self.test_button.setEnabled(True)
        self.result.setText(what + (f"\nWhat to do: {hint}" if hint else ""))
        self.result.setStyleSheet(
            f"color: {VERDICT_COLOURS['success' if ok else 'failed']}")

    def shutdown(self) -> None:
        self.runner.shutdown()
