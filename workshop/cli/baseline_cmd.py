"""`workshop baseline sign SPEC --out FILE` and `workshop baseline check [--baseline FILE]`."""

from __future__ import annotations

import argparse
from pathlib import Path

import workshop.cli as cli
from workshop.cli import options  # attributes used at call time (cli imports this module)
from workshop.packages.baseline import sign_baseline


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
    c = psub.add_parser("check", help="compare the vehicle with its approved baseline")
    c.add_argument("--baseline", type=Path, help="signed baseline file (default: newest stored)")
    c.add_argument("--trust", type=Path, help="trust store folder (default: the demo PKI's)")
    cli.add_json_flag(c)
    c.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from workshop.cli.options import adapter_config, vehicle
    from workshop.services import baseline_check, diagnose
    from workshop.services.connection import VehicleConnection

    v = vehicle(args)
    adapter = adapter_config(args, v)
    demo_ok = adapter.is_simulated  # the demo root never vouches for a real vehicle
    if demo_ok:
        baseline_check.ensure_demo_material(v.name)
    trust = baseline_check.trust_store(args.trust)
    baseline = baseline_check.find_baseline(v.name, trust, allow_demo_root=demo_ok,
                                            path=args.baseline)
    packages = baseline_check.known_packages(trust, allow_demo_root=demo_ok)
    with VehicleConnection(adapter, v) as conn:
        scan = diagnose.scan(conn)
    verdicts = baseline_check.check(scan, baseline, packages)
    if args.json:
        cli.print_json({"vin": scan.vin, "vehicle_model": baseline.vehicle_model,
                        "integration_level": baseline.integration_level,
                        "ecus": [vars(x) for x in verdicts]})
    else:
        print(f"VIN {scan.vin}  baseline {baseline.vehicle_model} "
              f"{baseline.integration_level}")
        for x in verdicts:
            print(f"  {x.ecu:<14} {x.verdict:<11} {x.detail}")
    return cli.EXIT_OK if all(x.verdict == "approved" for x in verdicts) else cli.EXIT_FAILED


def _sign(args: argparse.Namespace) -> int:
    signer = options.signer(args)
    b = sign_baseline(args.spec, args.out, signer)
    if args.json:
        cli.print_json({"baseline": str(args.out), "vehicle_model": b.vehicle_model,
                        "integration_level": b.integration_level, "ecus": sorted(b.ecus)})
    else:
        print(f"signed {args.out}: {b.vehicle_model} {b.integration_level} "
              f"({len(b.ecus)} ECUs)")
    return cli.EXIT_OK
