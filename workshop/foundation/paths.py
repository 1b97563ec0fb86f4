"""Where per-user state and shipped resources live."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import filelock
import platformdirs

from workshop.foundation.errors import LockTimeoutError, WorkshopError


def user_home() -> Path:
    """Per-user data folder: $WORKSHOP_HOME when set (tests), else the OS's user data dir."""
    env = os.environ.get("WORKSHOP_HOME")
    path = Path(env) if env else Path(platformdirs.user_data_dir("workshop", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_dir(name: str) -> Path:
    """A per-user subfolder (audit, packages, baselines...), created on first use."""
    path = user_home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def resources_dir() -> Path:
    """Shipped resources: inside a PyInstaller bundle, inside the installed package (a wheel
    carries them as workshop/resources, see setup.py), else beside the source tree (a
    checkout, an editable install)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    package = Path(__file__).resolve().parents[1]
    installed = package / "resources"
    if installed.is_dir():
        return installed
    return package.parent / "resources"


def atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half.

    The temporary file has a unique name in the same folder, so concurrent writers of the
    same path never share (or rename away) each other's temporary file; the last rename wins
    and every reader sees one writer's complete content. `private`: owner-only (keys).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600 if private else 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no directory handles to sync)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


LOCK_TIMEOUT_S = 60.0


@contextlib.contextmanager
def file_lock(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive lock between processes (flock on POSIX, LockFileEx on Windows).

    An OS lock, not the lock file's existence, is what counts, so a holder killed with
    kill -9 never leaves a stale lock behind; the lock file itself stays, empty."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # filelock retries an unwritable lock file until its timeout and then reports it
        # as held by another process; an unwritable folder must be said as such.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                         0o644))
    except OSError as exc:
        raise WorkshopError(f"cannot create the lock file {path}: "
                            f"{exc.strerror or exc}",
                            hint="choose a folder this user may write to") from exc
    try:
        with filelock.FileLock(str(path), timeout=timeout_s):
            yield
    except filelock.Timeout as exc:
        raise LockTimeoutError(f"{path} is locked by another workshop process",
                               hint="wait for the other command to finish, then retry"
                               ) from exc
