"""`workshop baseline sign SPEC --out FILE` and `workshop baseline check [--baseline FILE]`."""

from __future__ import annotations

import argparse
import sys

import workshop.cli as cli
from workshop.cli import options  # attributes used at call time (cli imports this module)
from workshop.diagnostics.bootloader import RESUME_COMMAND
from workshop.packages.baseline import sign_baseline
from workshop.trust.demo import demo_baseline_signer


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("baseline", help="signed vehicle baselines")
    psub = p.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    s = psub.add_parser("sign", help="sign a baseline spec (TOML) into a baseline file")
    s.add_argument("spec", type=options.input_file("baseline spec"))
    s.add_argument("--out", type=options.output_file("baseline"), required=True)
    s.add_argument("--key", type=options.input_file("private key"),
                   help="signer key (passphrase: $WORKSHOP_KEY_PASSPHRASE)")
    s.add_argument("--cert", type=options.input_file("certificate chain"),
                   help="signer certificate chain (PEM, leaf first)")
    cli.add_json_flag(s)
    s.set_defaults(func=_sign)
    c = psub.add_parser("check", help="compare the vehicle with its approved baseline")
    c.add_argument("--baseline", type=options.input_file("baseline"),
                   help="signed baseline file for the vehicle's model "
                   "(default: the stored one in force most recently)")
    c.add_argument("--trust", type=options.folder("trust store"),
                   help="trust store folder (default: the installed "
                   "store; with the simulator adapter the demo PKI's roots too)")
    cli.add_json_flag(c)
    c.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from workshop.cli.options import adapter_config, vehicle
    from workshop.services import baseline_check

    v = vehicle(args)
    result = baseline_check.check_vehicle(adapter_config(args, v), v,
                                          baseline_path=args.baseline, trust_dir=args.trust)
    baseline = result.choice.baseline
    if args.json:
        cli.print_json({"vin": result.scan.vin, "vehicle_model": baseline.vehicle_model,
                        "integration_level": baseline.integration_level,
                        "baseline": str(result.choice.path), "warnings": result.warnings,
                        "in_bootloader": result.scan.in_bootloader,
                        "ecus": [vars(x) for x in result.verdicts]})
    else:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"VIN {result.scan.vin}  baseline {baseline.vehicle_model} "
              f"{baseline.integration_level} ({result.choice.path.name})")
        stuck = set(result.scan.in_bootloader)
        for x in result.verdicts:
            detail = (f"IN BOOTLOADER: a flash was interrupted; run '{RESUME_COMMAND}'"
                      if x.ecu in stuck else x.detail)
            print(f"  {x.ecu:<14} {x.verdict:<11} {detail}")
    return cli.EXIT_OK if result.ok else cli.EXIT_FAILED


def _sign(args: argparse.Namespace) -> int:
    # Without --key/--cert the demo OEM baseline signer signs (baseline-signing EKU).
    signer = (demo_baseline_signer() if args.key is None and args.cert is None
              else options.signer(args))
    b = sign_baseline(args.spec, args.out, signer)
    if args.json:
        cli.print_json({"baseline": str(args.out), "vehicle_model": b.vehicle_model,
                        "integration_level": b.integration_level, "ecus": sorted(b.ecus)})
    else:
        print(f"signed {args.out}: {b.vehicle_model} {b.integration_level} "
              f"({len(b.ecus)} ECUs)")
    return cli.EXIT_OK
