"""The technician's session: the open connection, the last scan and what was done, shared by
the views; long work goes through the Runner so the GUI thread never waits on the bus."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from ui.workers import Runner
from workshop.diagnostics.scan import VehicleScan
from workshop.foundation.events import CancelToken
from workshop.services import diagnose
from workshop.services.connection import VehicleConnection
from workshop.services.session import open_connection
from workshop.services.session_report import Readings


@dataclass
class History:
    """What happened in this session, for the report: every scan, and the latest reading of
    each ECU (a DTC read after a clear, a scan after a flash replace what they read)."""

    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    scans: list[VehicleScan] = field(default_factory=list)
    clears: list[Any] = field(default_factory=list)
    flashes: list[Any] = field(default_factory=list)
    readings: Readings = field(default_factory=Readings)
    verdicts: list[Any] = field(default_factory=list)  # baseline verdicts of the latest scan
    verdicts_at: dt.datetime | None = None


class Session(QObject):
    connected = Signal(object)  # VehicleConnection
    disconnected = Signal()
    scan_event = Signal(object)
    scan_done = Signal(object)  # VehicleScan
    dtcs_read = Signal(object)  # VehicleScan of a DTC read (the Faults view's, after a clear)
    verdicts_done = Signal(object)  # baseline verdicts of the latest scan
    error = Signal(str, str)
    connect_failed = Signal(str, str)  # what happened, what to do (also on `error`)
    busy_changed = Signal(bool)
    message = Signal(str)
    resume_requested = Signal()  # finish the interrupted flashes (the Update view does it)
    work_done = Signal()  # a `run` job ended (done, failed or cancelled): it may have written
    #                       audit records (a flash, a clear) that the central store awaits

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = Runner(self)
        self.runner.busy_changed.connect(self.busy_changed)
        self.conn: VehicleConnection | None = None
        self.scan: VehicleScan | None = None
        self.history = History()
        self.passphrase: str | None = None  # of a passphrase-protected workstation key
        self.ask_passphrase: Any = lambda: None  # the main window's dialog, GUI thread

    def audit_ask(self, _prompt: str, _confirm: bool) -> str | None:
        """PassphraseSource for the audit log, usable from a worker thread."""
        return self.passphrase

    def before_audited_work(self) -> None:
        """Ask for the workstation key's passphrase here, in the GUI thread, if it has one."""
        if self.passphrase is None:
            self.passphrase = self.ask_passphrase()

    # -- connection ------------------------------------------------------------------------

    def connect_vehicle(self, vehicle: str, interface: str = "sim", channel: str | None = None,
                        bitrate: int | None = None, fd: bool = False,
                        rate_model: bool = False, data_bitrate: int | None = None, *,
                        host: str | None = None, port: int | None = None,
                        tls: bool = False) -> None:
        self.disconnect_vehicle()
        if tls and interface == "doip":  # the workstation's TLS key: asked here, GUI thread
            self.before_audited_work()

        def work(_events: Any, _cancel: CancelToken) -> VehicleConnection:
            return open_connection(vehicle, interface, channel, bitrate, fd,
                                   data_bitrate=data_bitrate, rate_model=rate_model,
                                   host=host, port=port, tls=tls, ask=self.audit_ask)

        def failed(what: str, hint: str) -> None:
            self.connect_failed.emit(what, hint)
            self.error.emit(what, hint)

        self.runner.start(work, on_done=self._opened, on_failed=failed)

    def _opened(self, conn: VehicleConnection) -> None:
        self.conn = conn
        self.history = History()
        self.connected.emit(conn)

    def disconnect_vehicle(self) -> None:
        if self.conn is not None:
            self.runner.shutdown()
            self.conn.close()
            self.conn = None
            self.scan = None
            self.disconnected.emit()

    @property
    def simulated(self) -> bool:
        return self.conn is not None and self.conn.adapter.is_simulated

    # -- scan ------------------------------------------------------------------------------

    def start_scan(self) -> None:
        conn = self.conn
        if conn is None:
            self.error.emit("not connected", "connect to a vehicle first")
            return

        def work(events: Any, cancel: CancelToken) -> VehicleScan:
            return diagnose.scan(conn, events=events, cancel=cancel)

        self.runner.start(work, on_event=self.scan_event.emit, on_done=self._scanned,
                          on_failed=self.error.emit)

    def _scanned(self, scan: VehicleScan) -> None:
        self.scan = scan
        self.history.scans.append(scan)
        self.history.readings.update(scan)
        self.scan_done.emit(scan)

    def read_dtcs(self) -> None:
        """DTCs of every ECU again (after a clear): every view and the report follow."""
        conn = self.conn
        if conn is None:
            return

        def work(events: Any, cancel: CancelToken) -> VehicleScan:
            return diagnose.read_dtcs(conn, events=events, cancel=cancel)

        self.run(work, on_done=self._dtcs_read)

    def _dtcs_read(self, scan: VehicleScan) -> None:
        self.history.readings.update(scan)
        self.dtcs_read.emit(scan)

    def set_verdicts(self, verdicts: list[Any]) -> None:
        self.history.verdicts = list(verdicts)
        self.history.verdicts_at = dt.datetime.now(dt.UTC)
        self.verdicts_done.emit(verdicts)

    def run(self, work: Any, *, on_done: Any = None, on_event: Any = None,
            on_cancelled: Any = None, on_failed: Any = None) -> Any:
        """Any other core work, errors to the session's error signal (and to `on_failed`,
        for a view that must undo its busy state)."""
        def failed(what: str, hint: str) -> None:
            if on_failed is not None:
                on_failed(what, hint)
            self.error.emit(what, hint)
            self.work_done.emit()

        def done(result: Any) -> None:
            if on_done is not None:
                on_done(result)
            self.work_done.emit()

        def cancelled() -> None:
            if on_cancelled is not None:
                on_cancelled()
            self.work_done.emit()

        return self.runner.start(work, on_done=done, on_event=on_event,
                                 on_failed=failed, on_cancelled=cancelled)

    def shutdown(self) -> None:
        self.disconnect_vehicle()
        self.runner.shutdown()
