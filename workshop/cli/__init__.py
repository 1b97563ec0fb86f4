"""Command-line interface over the workshop core.

Exit codes: 0 success; 1 the command ran but found a failure (e.g. verification failed);
2 usage error; 3 vehicle/communication error (timeout, negative response, adapter);
4 input file or configuration error; 5 cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from workshop import __version__
from workshop.cli import commands
from workshop.foundation.errors import CancelledError, ConfigError, WorkshopError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_VEHICLE = 3
EXIT_INPUT = 4
EXIT_CANCELLED = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workshop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"workshop {__version__}")
    bus = parser.add_argument_group("bus")
    bus.add_argument("--adapter", default="sim", help="python-can interface name, or 'sim'")
    bus.add_argument("--channel", default=None, help="adapter channel (e.g. can0, PCAN_USBBUS1)")
    bus.add_argument("--bitrate", type=int, default=None, help="nominal bitrate in bit/s")
    bus.add_argument("--fd", action="store_true", help="use CAN FD")
    bus.add_argument("--data-bitrate", type=int, default=None, help="CAN FD data bitrate")
    parser.add_argument("--vehicle", default="demo-car", help="vehicle name or definition file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in commands.ALL:
        module.register(sub)
    return parser


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def error_exit_code(exc: WorkshopError) -> int:
    if isinstance(exc, CancelledError):
        return EXIT_CANCELLED
    if isinstance(exc, ConfigError):
        return EXIT_INPUT
    return getattr(exc, "exit_code", EXIT_VEHICLE)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except WorkshopError as exc:
        code = error_exit_code(exc)
        if getattr(args, "json", False):
            print_json({"error": type(exc).__name__, "message": exc.message, "hint": exc.hint,
                        "exit_code": code})
        else:
            print(f"error: {exc}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
