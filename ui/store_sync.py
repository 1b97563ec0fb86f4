"""Background sync with the dealer group's central store: every minute (the setting
`store_sync_seconds`) and after each action that wrote audit records, on a worker thread, so
neither a slow nor a dead server ever holds the GUI; the state it finds is told in words for
the status bar (and, for a tamper alarm, the banner).

The core sync runs in a worker thread of the app, not in a `workshop sync` child process:
benchmarks/store_gui.py measured both, and the child's start (a new interpreter importing the
driver and the crypto on the same cores) stalled the GUI 2-10x longer and took 1.5-4 s where
the thread takes 0.1-0.2 s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ui.workers import Runner
from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import CancelToken
from workshop.foundation.settings import load_settings


@dataclass(frozen=True)
class StoreState:
    """What the app says about the store: `kind` is "" (no store), "ok", "offline",
    "problem" or "alarm"; `line` for the status bar, `detail` for its tooltip and the
    alarm banner (what happened and what to do)."""

    kind: str = ""
    line: str = ""
    detail: str = ""
    reason: str = ""  # offline: why, in the driver's words


def _records(n: int) -> str:
    return f"{n} record{'' if n == 1 else 's'}"


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") + " UTC" if iso else "never"


def _reason(message: str) -> str:
    """The driver's own words, without the connection string that precedes them."""
    for cut in ("cannot be reached: ", "went away while "):
        if cut in message:
            message = message.split(cut, 1)[1]
    message = message.removeprefix("connection failed: ")
    # libpq: 'connection to server at "host", port N failed: Connection refused' -> the cause
    if " failed: " in message:
        message = message.rsplit(" failed: ", 1)[1]
    return message.strip() or "no answer"


def describe(status: Any, unreachable: str | None, problem: tuple[str, str] | None,
             period: int) -> StoreState:
    """`status` a SyncStatus; `unreachable` the reason when this attempt found no server;
    `problem` (what, what to do) when the store refused or the log could not be read."""
    if not status.configured:
        return StoreState()
    last, waiting = status.last, _records(status.waiting)
    if last is not None and last.alarm:
        from workshop.services.sync import EVIDENCE_HINT

        return StoreState("alarm", "Central store: TAMPER ALARM (see the banner)",
                          f"TAMPER ALARM from the central store: {last.alarm}.\n"
                          f"What to do: {EVIDENCE_HINT}.")
    if unreachable is not None or (last is not None and last.unreachable):
        why = unreachable or "no answer at the last attempt"
        when = f"last sync {_when(last.time)}" if last and not last.unreachable else (
            "not synced yet" if last is None or not last.server_seq else "offline")
        return StoreState("offline", f"Central store unreachable ({why}); {waiting} waiting "
                          f"here, nothing lost; next try within {period} s",
                          f"The store could not be reached: {why}. Work goes on: records "
                          "stay in the local log and are sent when it answers "
                          f"({when}).", why)
    if problem is not None:
        return StoreState("problem", f"Central store: {problem[0]}",
                          f"{problem[0]}. What to do: {problem[1]}")
    if last is None:
        return StoreState("ok", f"Central store: not synced yet; {waiting} waiting")
    pulled = f"; pulled {', '.join(last.pulled)}" if last.pulled else ""
    return StoreState("ok", f"Central store: synced {_when(last.time)}; {waiting} waiting",
                      f"Last sync {_when(last.time)}: {_records(last.pushed)} sent, the store "
                      f"holds this log up to record {last.server_seq}{pulled}.")


def check_store(sync: bool, ask: Any, *, may_connect: bool = True,
                known_reason: str | None = None) -> StoreState:
    """Worker-thread work: sync if asked (or if records wait and `may_connect`), then read
    the state; `known_reason`: why the last attempt found no server, if it did not."""
    from workshop.audit import default_log_path

    settings = load_settings()
    try:
        from workshop.services.sync import sync_now, sync_status
        from workshop.store import StoreUnavailableError
    except ImportError:  # installed without the store extra
        return StoreState() if not settings.store else StoreState(
            "problem", "Central store: this installation lacks the PostgreSQL driver",
            "Install it with pip install 'workshop[store]'; nothing is lost meanwhile.")
    status = sync_status()
    unreachable: str | None = known_reason if status.last and status.last.unreachable else None
    problem: tuple[str, str] | None = None
    if status.configured and default_log_path().exists() and (
            sync or (status.waiting and may_connect)):
        unreachable = None
        try:
            sync_now(ask=ask)
        except StoreUnavailableError as exc:
            unreachable = _reason(exc.message)
        except WorkshopError as exc:
            problem = (exc.message, exc.hint or "run `workshop sync` for details")
        status = sync_status()
    return describe(status, unreachable, problem, settings.sync_seconds)


class StoreSync(QObject):
    """One sync at a time on its own worker thread; requests while one runs are merged into
    one more run after it."""

    changed = Signal(object)  # StoreState

    def __init__(self, ask: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ask = ask  # the session's PassphraseSource: an alarm record is signed
        self.runner = Runner(self)
        self.state = StoreState()
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.request(sync=True))
        self._pending: bool | None = None  # a request waiting (its sync flag)
        self._running = False
        self._closed = False
        self.configure()

    def configure(self) -> None:
        """(Re)read the period and whether a store is configured; a damaged settings file
        leaves the timer as it was (the settings dialog says what is wrong)."""
        try:
            settings = load_settings()
        except WorkshopError:
            return
        if settings.store:
            self.timer.start(settings.sync_seconds * 1000)
        else:
            self.timer.stop()

    def request(self, *, sync: bool) -> None:
        """Sync now (`sync`), or only if records wait (after an action), then report."""
        if self._closed:
            return
        if self._running:
            self._pending = bool(self._pending) or sync
            return
        self._running = True
        ask = self.ask
        # offline: an action only recounts what waits; the timer's next try reconnects (a
        # black-holed server would otherwise cost a connect timeout after every action)
        may_connect = self.state.kind != "offline"
        reason = self.state.reason or None

        def work(_events: Any, _cancel: CancelToken) -> StoreState:
            return check_store(sync, ask, may_connect=may_connect, known_reason=reason)

        self.runner.start(work, on_done=self._done, on_failed=self._failed)

    def _done(self, state: StoreState) -> None:
        self._running = False
        self.state = state
        self.changed.emit(state)
        if self._pending is not None:
            again, self._pending = self._pending, None
            self.request(sync=again)

    def _failed(self, what: str, hint: str) -> None:
        self._done(StoreState("problem", f"Central store: {what}", f"{what}. {hint}"))

    def shutdown(self) -> None:
        self._closed = True
        self.timer.stop()
        self.runner.shutdown()


__all__ = ["StoreState", "StoreSync", "check_store", "describe"]
