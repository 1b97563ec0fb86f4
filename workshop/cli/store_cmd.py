"""`workshop store init|upgrade|enroll|verify`, `workshop sync` and `workshop fleet history`:
the dealer group's central store (PostgreSQL, the `store` extra).

A connection string is never printed with its password; the store's modules are imported
only when a store command runs, so the rest of the CLI works without psycopg.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workshop.foundation.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    from workshop.cli import add_json_flag

    p = subparsers.add_parser("store", help="the dealer group's central store: create, "
                              "upgrade, enroll roles, verify")
    sub = p.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    i = sub.add_parser("init", help="create the schema and roles in an empty database "
                       "(as its owner)")
    i.add_argument("--dsn", required=True, help="libpq connection string of the owner")
    add_json_flag(i)
    i.set_defaults(func=_init)
    u = sub.add_parser("upgrade", help="apply the schema migrations this version ships")
    u.add_argument("--dsn", required=True, help="libpq connection string of the owner")
    add_json_flag(u)
    u.set_defaults(func=_upgrade)
    e = sub.add_parser("enroll", help="create a login role for a workstation (named as its "
                       "workstation id), a publisher or an auditor")
    e.add_argument("kind", choices=("workstation", "publisher", "auditor"))
    e.add_argument("name", help="role name; for a workstation its id (certificate CN)")
    e.add_argument("--dsn", required=True, help="libpq connection string of the owner")
    e.add_argument("--password-stdin", action="store_true",
                   help="read the role's password from standard input (else: client "
                   "certificate or other pg_hba.conf method)")
    add_json_flag(e)
    e.set_defaults(func=_enroll)
    v = sub.add_parser("verify", help="check every workstation's chain, signatures, heads and "
                       "sequence gaps from the server's copy alone (as an auditor)")
    v.add_argument("--dsn", help="connection string (default: the store in settings)")
    v.add_argument("--trust", type=Path, help="trust store folder with the dealer root")
    add_json_flag(v)
    v.set_defaults(func=_verify)
    r = sub.add_parser("resolve-alarm", help="record a signed resolution of a workstation's "
                       "tamper alarm (as an auditor); the workstation closes it at its next "
                       "sync")
    r.add_argument("workstation", help="the workstation (role) that raised the alarm")
    r.add_argument("seq", type=int, help="the alarm's seq, as `workshop store verify` lists it")
    r.add_argument("--reason", required=True, help="what was found and done (one line)")
    r.add_argument("--dsn", help="connection string of an auditor (default: the store in "
                   "settings)")
    add_json_flag(r)
    r.set_defaults(func=_resolve)
    pb = sub.add_parser("publish", help="publish a signed baseline, package, CRL or trust "
                        "update for every workstation to pull (as a publisher)")
    pb.add_argument("file", type=Path)
    pb.add_argument("--dsn", required=True, help="libpq connection string of a publisher")
    add_json_flag(pb)
    pb.set_defaults(func=_publish)

    s = subparsers.add_parser("sync", help="push the audit log to the central store; "
                              "--status: the last sync")
    s.add_argument("--dsn", help="connection string (default: the store in settings)")
    s.add_argument("--status", action="store_true",
                   help="show the last sync's outcome without connecting")
    add_json_flag(s)
    s.set_defaults(func=_sync)

    f = subparsers.add_parser("fleet", help="group-wide answers from the central store")
    fsub = f.add_subparsers(dest="fleet_command", required=True, metavar="QUESTION")
    h = fsub.add_parser("history", help="a vehicle's history across all workstations")
    h.add_argument("vin")
    h.add_argument("--dsn", help="connection string (default: the store in settings)")
    h.add_argument("--trust", type=Path, help="trust store folder with the dealer root")
    add_json_flag(h)
    h.set_defaults(func=_history)
    d = fsub.add_parser("deviations", help="ECUs whose last known software (flash or scan) is "
                        "outside the approved baseline of their vehicle model")
    d.add_argument("--dsn", help="connection string (default: the store in settings)")
    d.add_argument("--trust", type=Path, help="trust store folder that verifies the baselines "
                   "(default: as for a simulator action)")
    add_json_flag(d)
    d.set_defaults(func=_deviations)
    t = fsub.add_parser("dtcs", help="DTC frequency by ECU and software version (the DTCs "
                        "each flash found before it started)")
    t.add_argument("--dsn", help="connection string (default: the store in settings)")
    add_json_flag(t)
    t.set_defaults(func=_dtcs)


def _modules() -> Any:
    try:
        from workshop.services import fleet, sync
        from workshop.store import admin, dsn
        from workshop.store import migrations as store
    except ImportError as exc:
        raise ConfigError("the central store needs psycopg, which is not installed",
                          hint="pip install 'workshop[store]'") from exc
    return store, admin, dsn, sync, fleet


def _init(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    store, _, dsn, _, _ = _modules()
    applied = store.init_store(args.dsn)
    if args.json:
        print_json({"store": dsn.redact(args.dsn), "applied": applied})
    else:
        print(f"store created in {dsn.redact(args.dsn)}: schema version {applied[-1]}; "
              "roles workshop_workstation, workshop_publisher, workshop_auditor")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    store, _, dsn, _, _ = _modules()
    before, applied = store.upgrade_store(args.dsn)
    if args.json:
        print_json({"store": dsn.redact(args.dsn), "before": before, "applied": applied})
    elif applied:
        print(f"store upgraded from schema version {before} to {applied[-1]}")
    else:
        print(f"store is up to date (schema version {before})")
    return 0


def _enroll(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    _, admin, _, _, _ = _modules()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if args.password_stdin and not password:
        raise ConfigError("no password on standard input",
                          hint="pipe it in, e.g. from your password manager")
    created = admin.enroll(args.dsn, args.kind, args.name, password=password)
    if args.json:
        print_json({"role": args.name, "kind": args.kind, "created": created})
    else:
        print(f"{args.kind} role {args.name!r} {'created' if created else 'updated'}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    _, _, _, sync, fleet = _modules()
    report = fleet.verify_store(sync.configured_store(args.dsn), args.trust)
    if args.json:
        print_json(report.to_json())
        return 0 if report.ok else 1
    records = sum(r.result.records for r in report.logs)
    print(f"central store {'OK' if report.ok else 'FAILED verification'}: "
          f"{len(report.logs)} log(s), {records} record(s)")
    for r in report.logs:
        state = "OK" if r.ok else "FAILED"
        print(f"  {r.workstation:<24} log {r.log[:16]} {state}: {r.result.records} record(s), "
              f"head at seq {r.result.checkpoint_seq}")
        for p in r.problems:
            print(f"    {p}")
        for n in r.result.notes:
            print(f"    note: {n}")
    for a in report.alarms:
        resolution = report.resolutions.get(a.id)
        state = "RESOLVED alarm" if report.resolution(a) else "ALARM"
        print(f"  {state} from {a.workstation} at {a.raised_at} (log {a.log[:16]}, seq "
              f"{a.seq}): {a.reason}")
        if resolution is not None and resolution.problem is None:
            print(f"    {resolution.text()}")
        elif resolution is not None:
            print(f"    a resolution was recorded but does not count: {resolution.problem}")
    for p in report.summary:
        print(f"  {p} (the fleet answers disagree with the records: report it)")
    return 0 if report.ok else 1


def _resolve(args: argparse.Namespace) -> int:
    from workshop.audit import load_installation
    from workshop.cli import print_json
    from workshop.services.alarms import resolve_alarm
    from workshop.services.audit_trail import audit_signer

    _, _, _, sync, _ = _modules()
    signer = audit_signer(simulated=load_installation() is None)
    done = resolve_alarm(sync.configured_store(args.dsn), args.workstation, args.seq,
                         args.reason, signer)
    if args.json:
        print_json({"resolved": [vars(a) for a in done], "auditor": signer.workstation})
    else:
        for a in done:
            print(f"alarm of {a.workstation} at seq {a.seq} (log {a.log[:16]}) resolved, signed "
                  f"by {signer.workstation}; the workstation closes it at its next sync")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    _modules()
    from workshop.services.baseline_check import BASELINE_SUFFIX, PACKAGE_SUFFIX
    from workshop.store.session import StoreSession

    kind = {BASELINE_SUFFIX: "baseline", PACKAGE_SUFFIX: "package", ".crl": "crl",
            ".pem": "trust"}.get(args.file.suffix)
    if kind is None:
        raise ConfigError(f"{args.file.name} is neither a baseline ({BASELINE_SUFFIX}), a "
                          f"package ({PACKAGE_SUFFIX}), a CRL (.crl) nor a trust update "
                          "(<purpose>.<label>.pem: new root, then its cross-certificate)",
                          hint="publish signed files only")
    try:
        content = args.file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from exc
    with StoreSession(args.dsn) as store:
        new = store.publish(kind, args.file.name, content)
    if args.json:
        print_json({"kind": kind, "name": args.file.name, "new": new})
    else:
        print(f"{kind} {args.file.name} {'published' if new else 'was already published'}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    _, _, _, sync, _ = _modules()
    if args.status:
        state = sync.last_state()
        if args.json:
            print_json(state.to_json() if state else {"synced": False})
        elif state is None:
            print("never synced")
        else:
            where = "unreachable" if state.unreachable else "reached"
            print(f"last sync {state.time} with {state.store} ({where}): "
                  f"{state.waiting} record(s) waiting")
            if state.alarm:
                print(f"TAMPER ALARM: {state.alarm}")
        return 1 if state and state.alarm else 0
    result = sync.sync_now(args.dsn)
    if args.json:
        print_json(result.to_json())
    elif result.alarm:
        print(f"TAMPER ALARM: {result.alarm}\n  -> {sync.EVIDENCE_HINT}", file=sys.stderr)
        for why in result.refused:
            print(f"  REFUSED {why}", file=sys.stderr)
    elif result.held:
        for text in result.resolved:
            print(f"closed: {text}")
        print(f"not pushed: {result.held}")
    else:
        print(f"synced with {result.store}: {result.pushed} record(s) sent, the store holds "
              f"this log up to seq {result.server_seq} (signed head at seq {result.head_seq})")
        for name in result.pulled:
            print(f"  pulled {name} (verified)")
        for why in result.refused:
            print(f"  REFUSED {why}; the local copy, if any, stays")
    return 1 if result.alarm else 0


def _history(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    _, _, _, sync, fleet = _modules()
    entries = fleet.vin_history(sync.configured_store(args.dsn), args.vin, args.trust)
    if args.json:
        print_json([e.to_json() for e in entries])
        return 0
    if not entries:
        print(f"no records about {args.vin} in the central store")
        return 0
    for e in entries:
        r = e.record
        mark = "" if e.verified else "  [log FAILED verification]"
        print(f"{r.time} {e.workstation:<16} {r.technician:<12} {r.ecu or '-':<8} {r.action} "
              f"{dict(r.details)}{mark}")
    return 0


def _deviations(args: argparse.Namespace) -> int:
    from workshop.cli import print_json
    from workshop.services.trust_policy import trust_store
    from workshop.transport.adapters import AdapterConfig

    _, _, _, sync, fleet = _modules()
    found, unknown = fleet.deviations(sync.configured_store(args.dsn),
                                      trust_store(AdapterConfig(), args.trust))
    if args.json:
        print_json({"deviations": [d.to_json() for d in found], "no_baseline": unknown})
        return 0
    if not found:
        print("no vehicle's last known software is outside its approved baseline")
    for d in found:
        print(f"{d.vin} {d.model} {d.ecu}: runs {d.version}, baseline {d.baseline} approves "
              f"{', '.join(d.approved) or 'no software for this ECU'} ("
              f"{'flashed' if d.source == 'flash' else 'read by a scan'} {d.flashed_at} "
              f"by {d.workstation}, record {d.seq} of log {d.log[:16]})")
    for model in unknown:
        print(f"note: no verified baseline published for {model}")
    return 0


def _dtcs(args: argparse.Namespace) -> int:
    from workshop.cli import print_json

    _, _, _, sync, fleet = _modules()
    counts = fleet.dtc_frequency(sync.configured_store(args.dsn))
    if args.json:
        print_json([c.to_json() for c in counts])
        return 0
    if not counts:
        print("no DTCs recorded by flashes in the central store")
    for c in counts:
        print(f"{c.ecu:<14} {c.version:<10} {c.dtc:<8} {c.vehicles} vehicle(s), "
              f"{c.occurrences} time(s)")
    return 0
