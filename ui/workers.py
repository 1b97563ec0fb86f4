"""Long core work on worker threads: one QThread per job, the core's typed events turned into
Qt signals (queued to the GUI thread), errors turned into what happened and what to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from workshop.foundation.errors import CancelledError, WorkshopError
from workshop.foundation.events import CancelToken, Event
from workshop.services.diagnose import new_cancel_token

Work = Callable[[Callable[[Event], None], CancelToken], Any]


class Job(QObject):
    progress = Signal(object)  # the core's typed events
    done = Signal(object)
    failed = Signal(str, str)  # what happened, what to do
    cancelled = Signal()

    def __init__(self, work: Work) -> None:
        super().__init__()
        self.work = work
        self.cancel = new_cancel_token()

    @Slot()
    def run(self) -> None:
        try:
            result = self.work(self.progress.emit, self.cancel)
        except CancelledError:
            self.cancelled.emit()
        except WorkshopError as exc:
            self.failed.emit(exc.message, exc.hint or "")
        except Exception as exc:  # a defect: say so plainly, keep the app alive
            self.failed.emit(f"unexpected error: {exc!r}",
                             "this is a defect in workshop; save the log and report it")
        else:
            self.done.emit(result)


class Relay(QObject):
    """Lives in the GUI thread: the job's signals reach the views' callbacks through its
    slots, queued, so widgets are only touched by the GUI thread (a plain Python callable
    connected to a worker's signal would run in the worker's thread)."""

    def __init__(self, on_done: Callable[[Any], None] | None,
                 on_failed: Callable[[str, str], None] | None,
                 on_event: Callable[[Event], None] | None,
                 on_cancelled: Callable[[], None] | None) -> None:
        super().__init__()
        self._done, self._failed, self._event, self._cancelled = (
            on_done, on_failed, on_event, on_cancelled)

    @Slot(object)
    def done(self, result: Any) -> None:
        if self._done:
            self._done(result)

    @Slot(str, str)
    def failed(self, what: str, hint: str) -> None:
        if self._failed:
            self._failed(what, hint)

    @Slot(object)
    def progress(self, event: Event) -> None:
        if self._event:
            self._event(event)

    @Slot()
    def cancelled(self) -> None:
        if self._cancelled:
            self._cancelled()


class Runner(QObject):
    """Starts jobs on their own threads and joins every one of them on shutdown."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: list[tuple[QThread, Job]] = []
        self._finished: list[tuple[QThread, Job]] = []
        self._relays: dict[Job, Relay] = {}

    def start(self, work: Work, *, on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[str, str], None] | None = None,
              on_event: Callable[[Event], None] | None = None,
              on_cancelled: Callable[[], None] | None = None) -> Job:
        for t, j in self._finished:
            if t.isFinished():
                self._relays.pop(j, None)
        self._finished = [(t, j) for t, j in self._finished if not t.isFinished()]
        thread, job = QThread(), Job(work)
        relay = Relay(on_done, on_failed, on_event, on_cancelled)
        job.moveToThread(thread)
        queued = Qt.ConnectionType.QueuedConnection
        job.progress.connect(relay.progress, queued)
        job.done.connect(relay.done, queued)
        job.failed.connect(relay.failed, queued)
        job.cancelled.connect(relay.cancelled, queued)
        for signal in (job.done, job.failed, job.cancelled):
            signal.connect(thread.quit)
        thread.started.connect(job.run)
        # a slot of this GUI-thread object, so it runs queued in the GUI thread (a lambda
        # would run in the finishing worker thread and race with start())
        thread.finished.connect(self._thread_finished)
        self._relays[job] = relay
        self._running.append((thread, job))
        thread.start()
        self.busy_changed.emit(True)
        return job

    @Slot()
    def _thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread):
            self._forget(thread)

    def _forget(self, thread: QThread) -> None:
        # Python owns the thread and job: keep them referenced until a later start, so
        # neither is destroyed while Qt still delivers its queued signals.
        self._finished.extend((t, j) for t, j in self._running if t is thread)
        self._running = [(t, j) for t, j in self._running if t is not thread]
        self.busy_changed.emit(bool(self._running))

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def shutdown(self) -> None:
        for thread, job in list(self._running):
            job.cancel.cancel()
            thread.quit()
            thread.wait()
        self._running.clear()
        for thread, _job in self._finished:
            thread.wait()
