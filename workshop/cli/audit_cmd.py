"""`workshop audit verify|export|show`: inspect and check the tamper-evident audit log.

Trust in a record comes from its signer's chain and the trust store (`--trust`); the global
`--adapter` option plays no part here.
"""

from __future__ import annotations

import argparse

from workshop.audit import Record, SignerStatus, VerifyResult
from workshop.audit.wording import describe_record
from workshop.cli.options import count, folder, input_file, output_file
from workshop.foundation.text import printable
from workshop.services import audit_trail


def register(subparsers: argparse._SubParsersAction) -> None:
    from workshop.cli import add_json_flag

    p = subparsers.add_parser("audit", help="verify, export or show the audit log")
    sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = sub.add_parser("verify", help="detect modified, deleted, inserted or reordered records "
                       "and a rolled-back database")
    v.add_argument("--file", type=input_file("audit export"),
                   help="verify an export instead of the local log")
    v.add_argument("--cert", type=input_file("certificate"),
                   help="pin: only these workstation certificates (PEM) may have signed")
    v.add_argument("--trust", type=folder("trust store"),
                   help="trust store folder with the dealer root "
                   "(default: the one in settings or installed)")
    add_json_flag(v)
    v.set_defaults(func=_verify)
    e = sub.add_parser("export", help="write certificates, records, checkpoint and signed head "
                       "as JSON lines")
    e.add_argument("--out", type=output_file("audit export"), required=True)
    add_json_flag(e)
    e.set_defaults(func=_export)
    s = sub.add_parser("show", help="list audit records with their signer's standing")
    s.add_argument("--last", type=count, default=20, metavar="N", help="show the last N records")
    s.add_argument("--trust", type=folder("trust store"),
                   help="trust store folder (default: the one in settings or installed)")
    add_json_flag(s)
    s.set_defaults(func=_show)


def _verify(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    result = audit_trail.verify_log(file=args.file, trust_dir=args.trust, pinned=args.cert)
    if args.json:
        print_json(result.to_json())
    else:
        _report(result)
    return 0 if result.ok else 1


def _report(result: VerifyResult) -> None:
    if result.ok:
        print(f"audit log OK: {result.records} records, signed checkpoint at seq "
              f"{result.checkpoint_seq}, signed head at seq {result.head_seq}")
    else:
        print(f"audit log FAILED verification ({len(result.problems)} problem(s)):")
        for p in result.problems:
            print(f"  seq {p.seq}: {p.reason}")
    if result.signers:
        print("signers:")
        for s in result.signers.values():
            detail = f" ({s.detail})" if s.detail else ""
            print(f"  {s.workstation:<24} {s.status}{detail}: {s.records} record(s), "
                  f"certificate {s.fingerprint[:16]}")
    if any(s.status is SignerStatus.DEMO and s.records for s in result.signers.values()):
        print("note: records signed by the demo identity are simulator actions, never "
              "certified records of a real vehicle")
    for note in result.notes:
        print(f"note: {note}")
    if result.open_intents:
        print(f"{len(result.open_intents)} intent(s) without an outcome (the action was "
              "interrupted, or is running now); the next flash or 'workshop flash resume' "
              "on that vehicle closes them by asking its ECUs:")
        for i in result.open_intents:
            print(f"  seq {i.seq}: {i.action} {i.ecu or ''} at {i.time}"
                  + (f", VIN {i.vin}" if i.vin else ""))


def _export(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    count = audit_trail.export_local_log(args.out)
    if args.json:
        print_json({"out": str(args.out), "records": count})
    else:
        print(f"exported {count} records to {args.out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    records, result = audit_trail.recent_records(args.last, args.trust)
    if args.json:
        print_json([{**r.to_json(), "signer_status": _status(r, result)} for r in records])
        return 0
    for r in records:
        print(f"{r.seq:>6} {r.time} {r.technician:<12} {r.vin or '-':<17} {r.ecu or '-':<8} "
              f"{r.action} {printable(describe_record(r.action, r.details))} "
              f"[{_status(r, result)}]")
    if not result.ok:
        print(f"warning: the log FAILED verification ({len(result.problems)} problem(s)); "
              "run `workshop audit verify`")
    return 0


def _status(record: Record, result: VerifyResult) -> str:
    status = result.status_of(record.seq)
    return str(status) if status is not None else "FAILED verification"
