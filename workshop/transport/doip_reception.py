"""Who reads a DoIP connection's socket: the caller that waits for an answer, when it can.

A reader thread that hands every message to the caller waiting for it costs two thread
hand-overs per request (the gateway's acknowledgement, then the ECU's answer). Measured on a
2-core laptop that was a fifth of a 64 KiB TransferData block's round trip on loopback. So a
caller that waits reads the socket itself while nobody else does, and puts what is not its
own into the others' inboxes (leader/follower). The background thread reads only when no
caller has waited for `GRACE_S`: it answers the gateway's alive checks and notices a dropped
connection while the tester is idle. Waiting and reading never block each other for longer
than one read of what has already arrived.
"""

from __future__ import annotations

import queue
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# How long after a caller's last wait the background thread starts reading again: longer
# than a flash's gap between two blocks, short against any answer window.
GRACE_S = 0.005
# While callers read, the background thread looks every so often whether they fell quiet
# (instead of being woken after every answer, which would cost the hand-over saved here).
BUSY_POLL_S = 0.02


def wait_readable(sock: socket.socket, timeout_s: float) -> bool:
    """Whether `sock` has something to read (or its end) within `timeout_s`."""
    if hasattr(select, "poll"):  # no FD_SETSIZE limit, unlike select()
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(max(timeout_s, 0.0) * 1000))
    ready, _, _ = select.select([sock], [], [], max(timeout_s, 0.0))
    return bool(ready)


class Inbox(Generic[T]):
    """What the connection delivered for one waiter: an ECU's answers, its gateway ACKs,
    the answers to control requests. `get` reads the socket itself when nobody else does."""

    def __init__(self, reception: Reception) -> None:
        self._reception = reception
        self.items: deque[T] = deque()
        self.ready = threading.Condition(reception.mutex)

    def put(self, item: T) -> None:
        with self._reception.mutex:
            self.items.append(item)
            self.ready.notify()

    def get_nowait(self) -> T:
        with self._reception.mutex:
            if self.items:
                return self.items.popleft()
        raise queue.Empty

    def empty(self) -> bool:
        return not self.items

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """The next item; queue.Empty when none came within `timeout` (None: no limit)."""
        if not block:
            return self.get_nowait()
        return self._reception.wait(self, timeout)


class Reception:
    """The reading role of one connection. `read(timeout)` reads what arrives within
    `timeout` (None: until something does), delivers each message to its inbox, and never
    raises: a connection that ended is its caller's to report (then `end()`)."""

    def __init__(self, read: Callable[[float | None], None], name: str) -> None:
        self.mutex = threading.Lock()
        self._read = read
        self._reading = False
        self._waiting: dict[Inbox[Any], None] = {}  # callers waiting, in arrival order
        self._idle = threading.Condition(self.mutex)  # the background thread waits here
        self._active_until = 0.0
        self.grace_s = GRACE_S
        self._ended = False
        self._thread = threading.Thread(target=self._background, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def ended(self) -> bool:
        return self._ended

    def inbox(self) -> Inbox[Any]:
        return Inbox(self)

    def end(self) -> None:
        """Nothing more is read: the connection is closed or lost."""
        with self.mutex:
            self._ended = True
            for inbox in self._waiting:
                inbox.ready.notify_all()
            self._idle.notify_all()

    def listen(self) -> None:
        """Read now for a waiter that is no inbox (e.g. functional answers to a tap)."""
        with self.mutex:
            self._active_until = 0.0
            self._idle.notify()

    def stop(self, timeout_s: float = 1.0) -> None:
        self.end()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def wait(self, inbox: Inbox[T], timeout: float | None) -> T:
        end = None if timeout is None else time.monotonic() + timeout
        led = False
        while True:
            with self.mutex:
                if led:
                    self._reading = False  # handed on below, or taken again
                self._active_until = time.monotonic() + self.grace_s
                while True:
                    if inbox.items:
                        item = inbox.items.popleft()
                        self._pass_role()
                        return item
                    left = None if end is None else end - time.monotonic()
                    if left is not None and left <= 0:
                        self._pass_role()
                        raise queue.Empty
                    if not self._reading and not self._ended:
                        self._reading = True  # nobody reads: this caller does
                        break
                    self._waiting[inbox] = None
                    try:
                        inbox.ready.wait(left)
                    finally:
                        self._waiting.pop(inbox, None)
            led = True
            try:
                self._lead(inbox, end)
            except BaseException:
                with self.mutex:
                    self._reading = False
                    self._pass_role()
                raise

    def _lead(self, inbox: Inbox[T], end: float | None) -> None:
        """Read until this caller's item came, its time is up, or the connection ended."""
        while not self._ended:
            self._read(None if end is None else max(end - time.monotonic(), 0.0))
            if inbox.items or (end is not None and time.monotonic() >= end):
                return

    def _pass_role(self) -> None:
        """With the mutex held: nobody reads, so wake a waiting caller, who will. With none
        waiting the background thread takes over once the callers are quiet."""
        if self._reading:
            return
        for waiting in self._waiting:
            waiting.ready.notify()
            return

    def _background(self) -> None:
        while True:
            with self.mutex:
                while True:
                    if self._ended:
                        return
                    if self._reading or self._waiting:
                        self._idle.wait(BUSY_POLL_S)  # a caller reads, or will
                        continue
                    quiet_s = self._active_until - time.monotonic()
                    if quiet_s <= 0:
                        break
                    self._idle.wait(quiet_s)
                self._reading = True
            try:
                self._read(None)
            finally:
                with self.mutex:
                    self._reading = False
                    self._pass_role()
