"""Command-line interface over the workshop core (exit codes: see workshop.cli.output)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence

from workshop import __version__
from workshop.audit.errors import AuditError, AuditTamperedError
from workshop.cli import output
from workshop.cli.output import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VEHICLE,
    add_json_flag,
    print_json,
)
from workshop.flash.errors import FlashError
from workshop.foundation import logs
from workshop.foundation.errors import CancelledError, ConfigError, LockTimeoutError, WorkshopError
from workshop.foundation.text import printable
from workshop.packages.errors import BuildSpecError, PackageError
from workshop.store.errors import StoreError, StoreUnavailableError
from workshop.transport.errors import TransportError
from workshop.trust.errors import KeyFileError, TrustError
from workshop.trust.location import UnsafeTrustStoreError
from workshop.uds.errors import UdsError

__all__ = ["EXIT_CANCELLED", "EXIT_FAILED", "EXIT_INPUT", "EXIT_OK", "EXIT_USAGE",
           "EXIT_VEHICLE", "add_json_flag", "build_parser", "main", "print_json"]

def build_parser() -> argparse.ArgumentParser:
    from workshop.cli import commands, options  # the command modules import the helpers above
    parser = argparse.ArgumentParser(prog="workshop", description=output.EXIT_CODES_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"workshop {__version__}")
    bus = parser.add_argument_group("bus")
    bus.add_argument("--adapter", default="sim",
                     help="python-can interface name, 'sim', or over Ethernet 'doip' (a "
                          "gateway at --host) or 'sim-doip' (the simulated gateway)")
    bus.add_argument("--host", type=options.doip_host, default=None,
                     help="doip: the DoIP gateway's IP address or host name")
    bus.add_argument("--port", type=options.tcp_port, default=None,
                     help="doip: the gateway's TCP port (default: the vehicle definition's, "
                          "13400; with --tls 3496)")
    bus.add_argument("--tls", action="store_true",
                     help="doip, sim-doip: DoIP over TLS (ISO 13400-2:2019), with the "
                          "workstation identity's certificate (the demo PKI's on sim-doip)")
    bus.add_argument("--channel", default=None, help="adapter channel (e.g. can0, PCAN_USBBUS1)")
    bus.add_argument("--bitrate", type=options.bitrate("bitrate", *options.NOMINAL_BITRATES),
                     default=None, help="nominal bitrate in bit/s")
    bus.add_argument("--fd", action="store_true", help="use CAN FD")
    bus.add_argument("--data-bitrate", type=options.bitrate("data bitrate",
                                                            *options.DATA_BITRATES),
                     default=None, help="CAN FD data bitrate")
    parser.add_argument("--vehicle", default="demo-car", help="vehicle name or definition file")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print debug logs, protocol libraries included, on stderr")
    parser.add_argument("--log-file", type=options.output_file("log file"), default=None,
                        help="also write every log record (debug level) to this file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in commands.ALL:
        module.register(sub)
    return parser


# The one mapping from core exception types to exit codes; the first match wins, so a
# subclass that needs another code than its base is listed before the base.
EXIT_CODES: tuple[tuple[type[WorkshopError], int], ...] = (
    (CancelledError, EXIT_CANCELLED),
    (ConfigError, EXIT_INPUT),
    (LockTimeoutError, EXIT_INPUT),
    (KeyFileError, EXIT_INPUT),
    (BuildSpecError, EXIT_INPUT),
    (AuditTamperedError, EXIT_FAILED),
    (AuditError, EXIT_INPUT),
    (UnsafeTrustStoreError, EXIT_INPUT),
    (TrustError, EXIT_FAILED),
    (PackageError, EXIT_FAILED),
    (FlashError, EXIT_FAILED),
    (StoreUnavailableError, EXIT_VEHICLE),  # a communication error: nothing lost
    (StoreError, EXIT_INPUT),
    (TransportError, EXIT_VEHICLE),
    (UdsError, EXIT_VEHICLE),
)


def error_exit_code(exc: WorkshopError) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), EXIT_VEHICLE)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        with output.printable_streams():  # untrusted text never reaches the terminal raw
            return _run(argv)
    except BrokenPipeError:
        # the reader went away (`workshop audit show | head`): nothing left to say to it;
        # point stdout at nothing so the interpreter's final flush does not complain either
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except WorkshopError as exc:  # a path argument refused as it was read (cli.options)
        as_json = "--json" in (sys.argv[1:] if argv is None else argv)
        return _report_error(exc, as_json)
    try:
        logs.configure(args.verbose, args.log_file)
    except OSError as exc:
        print(f"error: cannot write the log file {args.log_file}: {exc.strerror}\n"
              "  -> choose a folder you can write to", file=sys.stderr)
        return EXIT_INPUT
    logging.getLogger("workshop.cli").info(
        "workshop %s: %s", __version__, " ".join(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args))
    except WorkshopError as exc:
        return _report_error(exc, getattr(args, "json", False))
    except BrokenPipeError:
        raise  # main() handles a reader that went away
    except OSError as exc:
        # a file the core reads or writes that the arguments' checks could not foresee (a
        # full disk, a folder made read-only meanwhile): said in words, never a traceback
        where = f" {exc.filename}" if exc.filename else ""
        return _report_error(ConfigError(
            f"cannot use{where}: {exc.strerror or exc}",
            hint="check the path, its permissions and the free space"),
            getattr(args, "json", False))
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED


def _report_error(exc: WorkshopError, as_json: bool) -> int:
    code = error_exit_code(exc)
    if as_json:
        print_json({"error": type(exc).__name__, "message": exc.message, "hint": exc.hint,
                    "exit_code": code})
    else:
        # a message can carry text from outside (a file name, an ECU's or a supplier's
        # text): escaped, so it cannot move the cursor or rewrite the terminal
        hint = f"\n  -> {printable(exc.hint, layout=True)}" if exc.hint else ""
        print(f"error: {printable(exc.message, layout=True)}{hint}", file=sys.stderr)
    return code
