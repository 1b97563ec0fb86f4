"""`workshop describe FILE [--variant V] [--json]`: what the tool takes from an ODX/PDX
description (variants, communication parameters, DIDs, DTCs, routines, sessions, security,
ODX-F flash sessions)."""

from __future__ import annotations

import argparse

import workshop.cli as cli
from workshop.cli import options  # attributes used at call time (cli imports this module)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("describe", help="show what the tool takes from an ODX/PDX description")
    p.add_argument("file", type=options.input_file("description"),
                   help="ODX or PDX file (.pdx, .odx, .odx-d, ...)")
    p.add_argument("--variant", default=None,
                   help="diagnostic layer to show (default: the first ECU variant)")
    cli.add_json_flag(p)
    p.set_defaults(func=_describe)


def _describe(args: argparse.Namespace) -> int:
    from workshop.vehicles.odx import load_description

    description = load_description(args.file)
    summary = description.summary(args.variant)
    if args.json:
        cli.print_json({"file": str(args.file), "variants": description.variants,
                        "variant": summary.as_dict(),
                        "flash_sessions": [f.as_dict() for f in description.flash_sessions]})
        return cli.EXIT_OK
    print(f"{args.file.name}: variants {', '.join(description.variants)}")
    print(f"variant {summary.name} ({summary.kind})")
    ids = [f"{label} 0x{x:X}" for label, x in (("request", summary.can_request_id),
                                               ("response", summary.can_response_id))
           if x is not None]
    if ids:
        print(f"  CAN ids: {', '.join(ids)}")
    if summary.timing:
        print("  timing: " + ", ".join(f"{k} {v:g}" for k, v in summary.timing.items()))
    print("  communication parameters:")
    for name, value in summary.comparams.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        print(f"    {name:<28} {shown}")
    _section("DIDs", [f"0x{d.did:04X} {d.service}: {_values(d.values)}" for d in summary.dids])
    _section("DTCs", [f"{d.display or f'0x{d.code:06X}'} {d.name}: {d.text}"
                      for d in summary.dtcs])
    _section("DTC extended data records", [f"record {n} (0x{n:02X}): {_values(values)}"
                                           for n, values in sorted(summary.extended.items())])
    for title, services in (("sessions", summary.sessions), ("security", summary.security),
                            ("routines", summary.routines)):
        _section(title, [f"{s.name} [{s.request_prefix or '-'}]"
                         + (f" -> {_values(s.response)}" if s.response else "")
                         for s in services])
    _section("state charts", [f"{name}: {', '.join(states)}"
                              for name, states in summary.state_charts.items()])
    _section("services", [f"{s.name} ({s.semantic or '-'}) [{s.request_prefix or '-'}]"
                          for s in summary.services])
    print("flash sessions (ODX-F):" + ("" if description.flash_sessions else " none"))
    for f in description.flash_sessions:
        expected = "; ".join(f"{k} {', '.join(v)}" for k, v in f.expected_idents.items())
        print(f"  {f.name} ({f.ecu_mem})" + (f" expects {expected}" if expected else ""))
        for b in f.blocks:
            own = ", ".join(f"{k} {v}" for k, v in b.own_idents.items())
            segments = ", ".join(f"0x{x.start:X}" + (f"+{x.size}" if x.size is not None else "")
                                 for x in b.segments)
            print(f"    block {b.name} ({b.data_type}) from {b.flashdata or '-'}: {segments}"
                  + (f"; becomes {own}" if own else ""))
        for line in f.checksums + f.securities:
            print(f"    {line}")
        if f.memory:
            print(f"    memory {', '.join(f.memory)}")
    return cli.EXIT_OK


def _section(title: str, lines: list[str]) -> None:
    print(f"  {title}:" + ("" if lines else " none"))
    for line in lines:
        print(f"    {line}")


def _values(values: list) -> str:
    out = []
    for v in values:
        if not v.compu:  # constant bytes (service id, DID): not a value
            continue
        kind = v.physical_type or v.coded_type
        extra = ""
        if v.compu == "LINEAR":
            extra = f" x{v.factor:g}{v.offset:+g}" + (
                f"/{v.denominator:g}" if v.denominator not in (None, 1.0) else "")
        elif v.texts:
            extra = " {" + ", ".join(f"{k}={t}" for k, t in v.texts.items()) + "}"
        out.append(f"{v.name} ({kind}{extra}{' ' + v.unit if v.unit else ''})")
    return "; ".join(out) or "-"
