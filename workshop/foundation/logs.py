"""Logging for the command line and the app: our own output only, unless asked for more.

udsoncan logs every negative response as a warning and can-isotp logs protocol errors that we
already handle and report in words; printed on stderr they would bury the answer. So library
records never reach the terminal by default: `-v` shows everything at debug level, and
`--log-file` keeps a full record (libraries included) for a bug report.
"""

from __future__ import annotations

import logging
from pathlib import Path

LIBRARY_LOGGERS = ("UdsClient", "Connection", "isotp", "can")
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"


class _OnlyOurs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "workshop" or record.name.startswith("workshop.")


def configure(verbose: bool = False, log_file: Path | None = None) -> None:
    """Set up the root logger once per CLI run (replaces any earlier setup of ours)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_workshop", False)]:
        root.removeHandler(handler)
        handler.close()
    keep_all = verbose or log_file is not None
    root.setLevel(logging.DEBUG if keep_all else logging.WARNING)
    # The libraries' debug records (every frame and request) go to -v's terminal and to the
    # log file; the console without -v filters them out below (only ours, warnings and up).
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if keep_all else logging.WARNING)

    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        console.addFilter(_OnlyOurs())
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(logging.Formatter(FORMAT))
        handlers.append(file_handler)
    for handler in handlers:
        handler._workshop = True  # type: ignore[attr-defined]
        root.addHandler(handler)
