"""`workshop baseline sign SPEC --out FILE` (the `baseline check` command is wired elsewhere)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import workshop.cli as cli  # attributes used at call time (cli imports this module)
from workshop.foundation.errors import ConfigError
from workshop.packages.baseline import sign_baseline
from workshop.trust.demo import Signer, demo_signer


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("baseline", help="signed vehicle baselines")
    psub = p.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    s = psub.add_parser("sign", help="sign a baseline spec (TOML) into a baseline file")
    s.add_argument("spec", type=Path)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--key", type=Path, help="signer key (passphrase: $WORKSHOP_KEY_PASSPHRASE)")
    s.add_argument("--cert", type=Path, help="signer certificate chain (PEM, leaf first)")
    cli.add_json_flag(s)
    s.set_defaults(func=_sign)


def _sign(args: argparse.Namespace) -> int:
    if (args.key is None) != (args.cert is None):
        raise ConfigError("--key and --cert must be given together",
                          hint="omit both to sign with the demo signer")
    if args.key is not None:
        pw = os.environ.get("WORKSHOP_KEY_PASSPHRASE")
        signer = Signer.load(args.key, args.cert, pw.encode() if pw else None)
    else:
        signer = demo_signer()
    b = sign_baseline(args.spec, args.out, signer)
    if args.json:
        cli.print_json({"baseline": str(args.out), "vehicle_model": b.vehicle_model,
                        "integration_level": b.integration_level, "ecus": sorted(b.ecus)})
    else:
        print(f"signed {args.out}: {b.vehicle_model} {b.integration_level} "
              f"({len(b.ecus)} ECUs)")
    return cli.EXIT_OK
