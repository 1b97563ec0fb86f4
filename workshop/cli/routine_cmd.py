"""`routine ECU NAME [PARAM=VALUE...] [--yes] [--json]`: run a routine the ECU's ODX
description names, its answer as named values with units."""

from __future__ import annotations

import argparse
import sys

from workshop.cli.diag_cmd import connect
from workshop.cli.options import confirm
from workshop.cli.output import EXIT_OK, EXIT_USAGE, add_json_flag, print_json
from workshop.foundation.text import printable
from workshop.services import routines
from workshop.services.audit_trail import open_audit_log


def parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE (e.g. cylinder=2)")
    return name.strip(), value.strip()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("routine", help="run a routine the ECU's description names and show "
                                       "its result in words")
    p.add_argument("ecu", help="ECU name in the vehicle definition")
    p.add_argument("name", help="routine name as its description gives it ('workshop "
                                "describe FILE' lists them)")
    p.add_argument("params", nargs="*", type=parameter, metavar="PARAM=VALUE",
                   help="the routine's parameters, as physical values (e.g. cylinder=2)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_json_flag(p)
    p.set_defaults(func=cmd_routine)


def cmd_routine(args: argparse.Namespace) -> int:
    params = dict(args.params)
    if len(params) != len(args.params):
        names = [n for n, _ in args.params]
        twice = sorted({n for n in names if names.count(n) > 1})
        print(printable(f"error: {', '.join(twice)} given more than once"), file=sys.stderr)
        return EXIT_USAGE
    with connect(args) as conn:
        routines.prepare(conn, args.ecu, args.name, params)  # refused here: nothing sent
        given = " ".join(f"{k}={v}" for k, v in params.items())
        if not confirm(printable(f"Run routine {args.name} {given} on {args.ecu}? It "
                                 "changes the ECU's state."), args.yes):
            print("nothing run", file=sys.stderr)
            return EXIT_USAGE
        with open_audit_log(simulated=conn.adapter.is_simulated) as log:
            result = routines.run_routine(conn, args.ecu, args.name, params, log)
    if args.json:
        print_json(result.to_json())
        return EXIT_OK
    print(printable(f"{result.ecu}: routine {result.routine} done (variant {result.variant})"))
    if result.variant_note:
        print(printable(f"  ! {result.variant_note}"))
    for v in result.values:
        print(printable(f"  {v.name:<28} {v.text}"))
    if not result.values:
        print("  (the answer carries no values)")
    return EXIT_OK
