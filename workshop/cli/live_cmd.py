"""`live ECU DID...`: values of chosen DIDs, read again and again, with names and units."""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from workshop.cli.diag_cmd import cancel_on_ctrl_c, connect
from workshop.cli.options import count
from workshop.cli.output import EXIT_FAILED, EXIT_OK, PrintableStream, add_json_flag
from workshop.diagnostics.live import LiveCycle, LiveProblem, LiveSample, Signal
from workshop.foundation.events import Event
from workshop.foundation.text import printable
from workshop.services import live
from workshop.services.diagnose import new_cancel_token
from workshop.services.live_csv import LiveCsv, check_csv_path
from workshop.vehicles.ecu_descriptions import ecu_descriptions

STOPPING = "stopping live data after this read (Ctrl-C again stops at once)"


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not 0..86400 seconds")
    return value


def csv_file(text: str) -> Path:
    return check_csv_path(Path(text))


def register(sub: Any) -> None:
    p = sub.add_parser("live", help="read DIDs of one ECU again and again: values with units",
                       description="Ctrl-C stops (exit 0); the CSV then holds every row read.")
    p.add_argument("ecu")
    p.add_argument("dids", nargs="+", metavar="DID",
                   help="hex (F40C, 0xF40C) or a name from the ECU's descriptions")
    p.add_argument("--period", type=seconds, default=0.0, metavar="S",
                   help="seconds from one read to the next (default 0: as fast as the ECU "
                        "answers)")
    limit = p.add_mutually_exclusive_group()
    limit.add_argument("--count", type=count, metavar="N", help="stop after N reads")
    limit.add_argument("--duration", type=seconds, metavar="S", help="stop after S seconds")
    p.add_argument("--csv", type=csv_file, metavar="FILE",
                   help="also record every read to this CSV file (new or plain file)")
    add_json_flag(p)
    p.set_defaults(func=cmd_live)


def _raw(stream: TextIO) -> TextIO:
    """The terminal itself, for cursor moves; all text is passed through printable() first."""
    return stream._stream if isinstance(stream, PrintableStream) else stream


class Printer:
    """A table redrawn in place on a terminal; one line per set of values otherwise;
    one JSON object per set with --json. Each problem is said once on stderr."""

    def __init__(self, ecu: str, signals: list[Signal], as_json: bool) -> None:
        self.ecu, self.signals, self.as_json = ecu, signals, as_json
        self.tty = sys.stdout.isatty() and not as_json
        self.values: dict[int, LiveSample] = {}
        self.problems: dict[int | None, str] = {}
        self.said: set[tuple[int | None, str]] = set()
        self.drawn = 0
        self.width = max([len(s.name) for s in signals] + [10])
        self.heads = [f"{s.name} [{s.unit}]" if s.unit else s.name for s in signals]
        if not as_json and not self.tty:
            print("time          " + "  ".join(self.heads), flush=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, LiveSample):
            self.values[event.did] = event
            self.problems.pop(event.did, None)
        elif isinstance(event, LiveProblem):
            self.problems[event.did] = event.message
            # on a terminal the table says it in place (a line between redraws would break them)
            if not self.tty and (event.did, event.message) not in self.said:
                self.said.add((event.did, event.message))
                where = "" if event.did is None else f"DID {event.did:04X}: "
                print(f"{where}{event.message}", file=sys.stderr, flush=True)
        elif isinstance(event, LiveCycle):
            self._row(event)
            self.values = {}

    def _row(self, cycle: LiveCycle) -> None:
        if self.as_json:
            json.dump({"ecu": self.ecu, "cycle": cycle.index, "time": cycle.time, "values": [
                {"did": f"{v.did:04X}", "name": v.name, "value": v.value, "unit": v.unit,
                 "raw": v.raw.hex().upper(), "text": v.text} for v in self.values.values()],
                "problems": [{"did": None if d is None else f"{d:04X}", "message": m}
                             for d, m in self.problems.items()]},
                sys.stdout, ensure_ascii=True)
            sys.stdout.write("\n")
            sys.stdout.flush()
            return
        cells = [self._cell(s) for s in self.signals]
        if not self.tty:
            when = datetime.fromtimestamp(cycle.time).strftime("%H:%M:%S.%f")[:-3]
            print(f"{when:<13} " + "  ".join(
                f"{c:>{len(h)}}" for c, h in zip(cells, self.heads, strict=True)), flush=True)
            return
        out = _raw(sys.stdout)
        note = self.problems.get(None)
        lines = [f"{self.ecu}  read {cycle.index}" + (f"  ({note})" if note else "")] + [
            f"  {printable(s.name):<{self.width}}  {printable(c)}"
            for s, c in zip(self.signals, cells, strict=True)]
        width = shutil.get_terminal_size().columns - 1  # a wrapped line breaks the redraw
        lines = [line[:width] for line in lines]
        up = f"\x1b[{self.drawn}A" if self.drawn else ""
        out.write(up + "".join(f"\r\x1b[K{line}\n" for line in lines))
        out.flush()
        self.drawn = len(lines)

    def _cell(self, signal: Signal) -> str:
        sample = self.values.get(signal.did)
        if sample is not None:
            return sample.text
        if signal.did in self.problems:
            return "no value" if not self.tty else f"no value: {self.problems[signal.did]}"
        return "-"


def cmd_live(args: argparse.Namespace) -> int:
    with connect(args) as conn:
        ecu = conn.vehicle.ecu(args.ecu).name
        dids = live.resolve_dids(conn.vehicle, ecu, args.dids)
        table = ecu_descriptions(conn.vehicle, ecu)
        signals = [Signal(did, table.did(did)) for did in dids]
        printer = Printer(ecu, signals, args.json)
        recorder = LiveCsv(args.csv, signals) if args.csv else None

        def events(event: Event) -> None:
            printer(event)
            if recorder is not None:
                recorder.add(event)

        try:
            with cancel_on_ctrl_c(new_cancel_token(), lambda: STOPPING) as token:
                summary = live.watch(conn, ecu, dids, period_s=args.period, count=args.count,
                                     duration_s=args.duration, events=events, cancel=token)
        finally:
            if recorder is not None:
                recorder.close()
    if recorder is not None and not args.json:
        print(f"{recorder.rows} rows written to {recorder.path}", file=sys.stderr)
    return EXIT_FAILED if summary.samples == 0 and summary.problems else EXIT_OK
