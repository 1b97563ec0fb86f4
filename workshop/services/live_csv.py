"""Recording live data to CSV: one row per complete set of values, a header with each
signal's name and unit, every row flushed as it is written, so a recording stopped at any
moment (Ctrl-C, Stop, a closed window) is a complete file up to its last row."""

from __future__ import annotations

import csv
import io
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from workshop.diagnostics.live import LiveCycle, LiveSample, Signal
from workshop.foundation.errors import ConfigError
from workshop.foundation.events import Event

# A spreadsheet runs a cell that starts with one of these as a formula; names come from
# definition and description files, which are not ours.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def check_csv_path(path: Path) -> Path:
    """A new or plain file in an existing folder; never a link (whose target would be
    overwritten) or a device. ConfigError in words otherwise."""
    path = Path(path).expanduser()
    if not str(path) or path.name in ("", ".", ".."):
        raise ConfigError(f"CSV file {path}: give a file name", hint="e.g. live.csv")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"CSV file {path}: the folder {folder} does not exist",
                          hint="create the folder first, or choose an existing one")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    if stat.S_ISLNK(st.st_mode):
        raise ConfigError(f"CSV file {path} is a symbolic link; live data is not written "
                          "through links", hint="give the path of a plain file")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"CSV file {path} exists and is not a plain file",
                          hint="choose a new file name")
    return path


class LiveCsv:
    """`with LiveCsv(path, signals) as rec:` then `rec.add(event)` for each live event."""

    def __init__(self, path: Path, signals: list[Signal]) -> None:
        self.path = check_csv_path(path)
        self.signals = signals
        self._column = {s.did: i for i, s in enumerate(signals)}
        self._row: list[str] = [""] * len(signals)
        self._t0: float | None = None
        self.rows = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot write CSV file {self.path}: {exc.strerror}",
                              hint="choose a folder you can write to") from exc
        # utf-8 with a BOM: spreadsheets then read the units (°C) right
        self._file = open(fd, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        header = ["time (UTC)", "seconds"] + [
            _cell(f"{s.name} [{s.unit or ('hex' if not s.described else '-')}]")
            for s in signals]
        self._write(header)

    def _write(self, cells: list[str]) -> None:
        # one write per row: a stop between two writes cannot leave half a row behind
        buffer = io.StringIO()
        csv.writer(buffer).writerow(cells)
        self._file.write(buffer.getvalue())
        self._file.flush()

    def add(self, event: Event) -> None:
        if isinstance(event, LiveSample) and event.did in self._column:
            self._row[self._column[event.did]] = (
                f"{event.value:.6g}" if event.value is not None else event.raw.hex().upper())
        elif isinstance(event, LiveCycle):
            if self._t0 is None:
                self._t0 = event.time
            when = datetime.fromtimestamp(event.time, UTC).isoformat(timespec="milliseconds")
            self._write([when, f"{event.time - self._t0:.3f}", *self._row])
            self._row = [""] * len(self.signals)
            self.rows += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> LiveCsv:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
