"""Long core work on worker threads: one QThread per job, the core's typed events turned into
Qt signals (queued to the GUI thread), errors turned into what happened and what to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

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


class Runner(QObject):
    """Starts jobs on their own threads and joins every one of them on shutdown."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: list[tuple[QThread, Job]] = []
        self._finished: list[tuple[QThread, Job]] = []

    def start(self, work: Work, *, on_done: Callable[[Any], None] | None = None,
              on_failed: Callable[[str, str], None] | None = None,
              on_event: Callable[[Event], None] | None = None,
              on_cancelled: Callable[[], None] | None = None) -> Job:
        self._finished = [(t, j) for t, j in self._finished if not t.isFinished()]
        thread, job = QThread(), Job(work)
        job.moveToThread(thread)
        if on_event:
            job.progress.connect(on_event)
        if on_done:
            job.done.connect(on_done)
        if on_failed:
            job.failed.connect(on_failed)
        if on_cancelled:
            job.cancelled.connect(on_cancelled)
        for signal in (job.done, job.failed, job.cancelled):
            signal.connect(thread.quit)
        thread.started.connect(job.run)
        thread.finished.connect(lambda: self._forget(thread))
        self._running.append((thread, job))
        thread.start()
        self.busy_changed.emit(True)
        return job

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
