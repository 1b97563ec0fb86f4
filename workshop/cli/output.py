"""Exit codes and output helpers shared by every subcommand module.

Exit codes: 0 success; 1 the command ran but found a failure (an ECU did not answer, a
verification failed); 2 usage error or not confirmed; 3 vehicle or communication error
(timeout, negative response, adapter); 4 input file or configuration error; 5 cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from workshop.foundation.text import printable

EXIT_CODES_HELP = """\
Diagnose a vehicle and reflash its ECUs (default: the simulated vehicle).

exit codes: 0 success; 1 ran but found a failure (an ECU did not answer, a check failed);
2 usage error or not confirmed; 3 vehicle or communication error; 4 input file or
configuration error; 5 cancelled."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_VEHICLE = 3
EXIT_INPUT = 4
EXIT_CANCELLED = 5


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(obj: object) -> None:
    # ensure_ascii: control characters from untrusted fields stay \u escapes, never raw bytes
    json.dump(obj, sys.stdout, indent=2, default=str, ensure_ascii=True)
    sys.stdout.write("\n")


class PrintableStream:
    """A text stream that passes everything through foundation.text.printable: whatever a
    command prints (certificate names, manifest fields, ECU answers) reaches the terminal
    without control or bidi characters."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text, layout=True))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


@contextmanager
def printable_streams() -> Iterator[None]:
    """Route stdout and stderr through PrintableStream while a command runs."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(err)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def raw_stderr() -> TextIO:
    """stderr without the printable filter, for the progress bar's carriage returns; only
    text already passed through printable() may be written to it."""
    err = sys.stderr
    return err._stream if isinstance(err, PrintableStream) else err
