"""One flash per vehicle at a time, across processes.

Two tools programming the same ECU at once interleave their requests on its one session:
each sees the other's answers, and the ECU ends in a state neither planned. The lock is an
OS lock (flock / LockFileEx through filelock) on user_home()/flash/locks/<vehicle>.lock: the
OS drops it when its process dies, even by kill -9, so a crash never leaves it behind. A
small JSON file beside it says who holds it, so the second process can name the first; it
is only read while the lock is held by someone, so a stale one is never believed.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import filelock

from workshop.flash.errors import FlashError
from workshop.foundation.names import UnsafeNameError, safe_name
from workshop.foundation.paths import atomic_write, user_home


class FlashBusyError(FlashError):
    """Another process is flashing this vehicle."""


def lock_dir() -> Path:
    return user_home() / "flash" / "locks"


def _paths(vehicle: str) -> tuple[Path, Path]:
    try:
        name = safe_name("vehicle name", vehicle)
    except UnsafeNameError as exc:
        raise FlashError(exc.message, hint=exc.hint) from exc
    return lock_dir() / f"{name}.lock", lock_dir() / f"{name}.holder.json"


def holder(vehicle: str) -> dict[str, object] | None:
    """Who said they hold the lock (only meaningful while it is held)."""
    try:
        doc = json.loads(_paths(vehicle)[1].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _describe(who: dict[str, object] | None) -> str:
    if not who:
        return "another workshop process (it has not said who it is yet)"
    return (f"workshop process {who.get('pid')} on {who.get('host')}, started by "
            f"{who.get('technician')} at {who.get('since')} ({who.get('what')})")


@contextmanager
def vehicle_flash_lock(vehicle: str, *, technician: str, what: str) -> Iterator[None]:
    """Hold the vehicle's flash lock for the body; FlashBusyError at once (never a wait: the
    other flash can take many minutes) naming the holder when another process has it."""
    lock_path, holder_path = _paths(vehicle)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FlashError(f"cannot create the flash lock folder {lock_path.parent}: {exc}",
                         hint="check the folder's permissions") from exc
    lock = filelock.FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise FlashBusyError(
            f"{vehicle} is being flashed by {_describe(holder(vehicle))}: a second flash of "
            "the same vehicle at the same time is refused",
            hint="wait until that flash has finished (or its process has ended), then run "
                 "'workshop flash resume' or the flash again") from exc
    except OSError as exc:
        raise FlashError(f"cannot take the flash lock {lock_path}: {exc}",
                         hint="check the folder's permissions") from exc
    try:
        with suppress(OSError):  # naming the holder is a courtesy; the OS lock is what counts
            atomic_write(holder_path, json.dumps({
                "pid": os.getpid(), "host": socket.gethostname(), "technician": technician,
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "what": what}).encode())
        yield
    finally:
        with suppress(OSError):
            holder_path.unlink(missing_ok=True)
        lock.release()
