"""`workshop audit verify|export|show`: inspect and check the tamper-evident audit log."""

from __future__ import annotations

import argparse
from pathlib import Path

from cryptography import x509

from workshop.audit import (
    AuditError,
    AuditLog,
    ChainVerifier,
    VerifyResult,
    default_log_path,
    export_log,
    load_or_create_workstation_identity,
    verify_export,
    workstation_chain_verifier,
)


def trust_chain_verifier(args: argparse.Namespace) -> ChainVerifier:
    """The workstation certificate must chain to the trust store (the demo dealer root is
    accepted only while the adapter is the simulator)."""
    return workstation_chain_verifier(args.trust, allow_demo_root=args.adapter == "sim")


def register(subparsers: argparse._SubParsersAction) -> None:
    from workshop.cli import add_json_flag

    p = subparsers.add_parser("audit", help="verify, export or show the audit log")
    sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = sub.add_parser("verify", help="detect modified, deleted, inserted or reordered records")
    v.add_argument("--file", type=Path, help="verify an export instead of the local log")
    v.add_argument("--cert", type=Path, help="expected workstation certificate (PEM) to pin")
    v.add_argument("--trust", type=Path, help="trust store folder (default: the demo PKI's)")
    add_json_flag(v)
    v.set_defaults(func=_verify)
    e = sub.add_parser("export", help="write records, checkpoint and certificate as JSON lines")
    e.add_argument("--out", type=Path, required=True)
    add_json_flag(e)
    e.set_defaults(func=_export)
    s = sub.add_parser("show", help="list audit records")
    s.add_argument("--last", type=int, default=20, metavar="N", help="show the last N records")
    add_json_flag(s)
    s.set_defaults(func=_show)


def _verify(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    chain = trust_chain_verifier(args)
    if args.file is not None:
        pinned = None
        if args.cert is not None:
            try:
                pinned = x509.load_pem_x509_certificate(args.cert.read_bytes())
            except (OSError, ValueError) as exc:
                raise AuditError(f"cannot read certificate {args.cert}: {exc}") from exc
        result = verify_export(args.file, certificate=pinned, verify_chain_fn=chain)
    else:
        signer = load_or_create_workstation_identity()
        with AuditLog.open(default_log_path(), None) as log:
            result = log.check(signer.certificate, chain)
    return _report(result, args.json, print_json)


def _report(result: VerifyResult, as_json: bool, print_json: object) -> int:
    if as_json:
        print_json(result.to_json())  # type: ignore[operator]
    elif result.ok:
        print(f"audit log OK: {result.records} records, signed checkpoint at seq "
              f"{result.checkpoint_seq}")
        if not result.chain_checked:
            print("note: workstation certificate chain not checked (no trust store wired)")
    else:
        print(f"audit log FAILED verification ({len(result.problems)} problem(s)):")
        for p in result.problems:
            print(f"  seq {p.seq}: {p.reason}")
    return 0 if result.ok else 1


def _export(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    signer = load_or_create_workstation_identity()
    with AuditLog.open(default_log_path(), None) as log:
        count = export_log(log, signer.certificate, args.out)
    if args.json:
        print_json({"out": str(args.out), "records": count})
    else:
        print(f"exported {count} records to {args.out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    with AuditLog.open(default_log_path(), None) as log:
        records = log.last(max(args.last, 0))
    if args.json:
        print_json([r.to_json() for r in records])
        return 0
    for r in records:
        print(f"{r.seq:>6} {r.time} {r.technician:<12} {r.vin or '-':<17} {r.ecu or '-':<8} "
              f"{r.action} {r.details}")
    return 0
