"""`workshop package build|verify|inspect`."""

from __future__ import annotations

import argparse

import workshop.cli as cli
from workshop.cli import options  # attributes used at call time (cli imports this module)
from workshop.foundation.errors import ConfigError
from workshop.foundation.text import printable
from workshop.packages.build import build_package
from workshop.packages.container import MANIFEST, Container
from workshop.packages.manifest import MAX_MANIFEST_BYTES, parse_manifest
from workshop.packages.odx_package import build_odx_package
from workshop.packages.verify import verify_package
from workshop.services import trust_policy
from workshop.transport.adapters import AdapterConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("package", help="build, verify and inspect signed update packages")
    psub = p.add_subparsers(dest="package_command", required=True, metavar="ACTION")
    b = psub.add_parser("build", help="build and sign a package from a TOML spec or an ODX-F "
                        "flash container (--odx)")
    b.add_argument("spec", nargs="?", type=options.input_file("build spec"))
    b.add_argument("--odx", type=options.input_file("flash container"),
                   help="ODX-F flash container (.pdx or .odx-f) instead of a build spec")
    b.add_argument("--session", help="with --odx: the ODX-F session to package")
    b.add_argument("--ecu", help="with --odx: the ECU the package updates (its address and "
                   "flash profile from --vehicle when that has it)")
    b.add_argument("--id", dest="package_id", help="with --odx: the package id "
                   "(default: ECU-session)")
    b.add_argument("--out", type=options.output_file("package"), required=True)
    b.add_argument("--key", type=options.input_file("private key"),
                   help="signer private key (PEM, passphrase from "
                   "$WORKSHOP_KEY_PASSPHRASE); default: per-user demo signer")
    b.add_argument("--cert", type=options.input_file("certificate chain"),
                   help="signer certificate chain (PEM, leaf first)")
    b.add_argument("--delta-from", type=options.input_file("previous package"),
                   help="previous package: ship bsdiff4 deltas")
    cli.add_json_flag(b)
    b.set_defaults(func=_build)
    v = psub.add_parser("verify", help="verify a package; exit 0 only if every check passed")
    v.add_argument("package", type=options.input_file("package"))
    v.add_argument("--trust", type=options.folder("trust store"),
                   help="trust store folder (default: the installed "
                   "store; with the simulator adapter also the per-user demo PKI's roots)")
    cli.add_json_flag(v)
    v.set_defaults(func=_verify)
    i = psub.add_parser("inspect", help="show a package's manifest (does not verify)")
    i.add_argument("package", type=options.input_file("package"))
    cli.add_json_flag(i)
    i.set_defaults(func=_inspect)


def _build(args: argparse.Namespace) -> int:
    if args.odx is not None:
        return _build_odx(args)
    if args.spec is None or args.session or args.ecu or args.package_id:
        raise ConfigError("give a build spec, or --odx FILE --session NAME --ecu NAME",
                          hint="--session, --ecu and --id belong to --odx")
    signer = options.signer(args)
    m = build_package(args.spec, args.out, signer, delta_from=args.delta_from)
    if args.json:
        cli.print_json({"package": str(args.out), "id": m.id, "version": m.version,
                    "ecus": [e.name for e in m.ecus]})
    else:
        print(f"built {args.out}: {m.id} {m.version} ({', '.join(e.name for e in m.ecus)})")
    return cli.EXIT_OK


def _build_odx(args: argparse.Namespace) -> int:
    if args.spec is not None or args.delta_from is not None:
        raise ConfigError("--odx builds from the flash container alone",
                          hint="omit the build spec and --delta-from")
    if not args.session or not args.ecu:
        raise ConfigError("--odx needs --session NAME and --ecu NAME",
                          hint="'workshop describe FILE' lists the container's flash sessions")
    vehicle = options.vehicle(args)
    ecu = next((e for e in vehicle.ecus if e.name.lower() == args.ecu.lower()), None)
    built = build_odx_package(args.odx, args.session, ecu.name if ecu else args.ecu, args.out,
                              options.signer(args), ecu=ecu,
                              vehicle_model=vehicle.name if ecu else None,
                              package_id=args.package_id)
    m = built.manifest
    if args.json:
        cli.print_json({"package": str(args.out), "id": m.id, "version": m.version,
                        "ecus": [e.name for e in m.ecus], "notes": built.notes})
        return cli.EXIT_OK
    (e,) = m.ecus
    # identifications are the supplier's text: escaped, never obeyed by the terminal
    print(printable(f"built {args.out}: {m.id} {m.version} ({e.name}) from {args.odx.name} "
                    f"session {args.session}"))
    print(printable(f"  hardware {', '.join(e.hardware_part_numbers)}; from "
                    f"{', '.join(e.from_versions)} to {e.new_version} (security version "
                    f"{e.security_version}); check {e.check_memory}"))
    for r in e.regions:
        kind = f"encoded, format 0x{r.data_format:02X}" if r.data_format is not None else "plain"
        print(f"  region 0x{r.address:08X} +{r.length} bytes ({kind})")
    for note in built.notes:
        print(f"  note: {note}")
    return cli.EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    trust = trust_policy.trust_store(AdapterConfig(interface=args.adapter), args.trust)
    report = verify_package(args.package, trust)
    if args.json:
        cli.print_json(report.to_dict())
    else:
        marks = {True: "PASS", False: "FAIL", None: "SKIP"}
        for c in report.checks:
            print(f"{marks[c.passed]}  {c.name:10} {c.detail}")
        print("package verified" if report.ok else "package REJECTED")
        if report.error is not None and report.error.hint:
            print(f"  -> {report.error.hint}")
    return cli.EXIT_OK if report.ok else cli.EXIT_FAILED


def _inspect(args: argparse.Namespace) -> int:
    with Container(args.package) as c:
        m = parse_manifest(c.read_small(MANIFEST, MAX_MANIFEST_BYTES))
    if args.json:
        import json
        cli.print_json(json.loads(m.to_json()))
        return cli.EXIT_OK
    print(f"{m.id} {m.version} (schema {m.schema}) for {', '.join(m.vehicle_models)}")
    print(f"created {m.created}, expires {m.expires or 'never'}; order: {' -> '.join(m.order)}")
    if m.release_notes:
        print(f"notes: {m.release_notes}")
    for e in m.ecus:
        deps = f" after {', '.join(e.depends_on)}" if e.depends_on else ""
        print(f"  {e.name} @0x{e.address:X}: {'/'.join(e.from_versions)} -> {e.new_version} "
              f"(security {e.security_version}, hw {', '.join(e.hardware_part_numbers)}){deps}")
        for r in e.regions:
            kind = f"delta from {r.delta.base_sha256[:12]}" if r.delta else "full"
            print(f"    0x{r.address:08X} +{r.length} erase 0x{r.erase_address:08X}+"
                  f"{r.erase_length} {e.check_memory}={r.crc32:08x} {kind}")
    print("(not verified; run 'workshop package verify')")
    return cli.EXIT_OK
