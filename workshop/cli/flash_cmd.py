"""`flash PACKAGE [--ecu ECU] [--dry-run] [--yes] [--json]` and `flash resume`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from workshop.cli.diag_cmd import cancel_on_ctrl_c, connect
from workshop.cli.options import confirm, folder, input_file
from workshop.cli.output import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VEHICLE,
    add_json_flag,
    print_json,
    raw_stderr,
)
from workshop.flash.errors import NothingToResumeError
from workshop.flash.events import FlashOverall, FlashProgress
from workshop.flash.result import FlashResult
from workshop.foundation.errors import ConfigError
from workshop.foundation.events import EcuFinished, EcuStep, Event, EventSink
from workshop.foundation.text import printable
from workshop.services import diagnose
from workshop.services.flash import (
    FlashPreparation,
    find_package,
    prepare_flash,
    prepare_resume,
    run_flash,
)
from workshop.services.keep_awake import SleepInhibit

BAR = 24
MARKS = {True: "PASS", False: "FAIL", None: "SKIP"}


def register(sub: Any) -> None:
    p = sub.add_parser("flash", help="reflash ECUs from a signed package, or 'flash resume'",
                       description="Verify the package, read the ECUs, plan, then program. "
                                   "'workshop flash resume' finishes interrupted flashes.")
    p.add_argument("package", help="package file or name in the package store, or 'resume'")
    p.add_argument("--ecu", action="append", help="only this ECU (repeatable)")
    p.add_argument("--mode", default="auto", choices=["auto", "plain", "lz4", "bsdiff4"],
                   help="transfer mode (default: the least bus time the ECU supports)")
    p.add_argument("--override", action="append", default=[], metavar="CHECK=REASON",
                   help="override an overridable check (e.g. baseline, ENGINE.version) with "
                        "a reason for the audit log")
    p.add_argument("--dry-run", action="store_true", help="print the plan; touch nothing")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--trust", type=folder("trust store"), default=None,
                   help="trust store folder")
    p.add_argument("--baseline", type=input_file("baseline"), default=None,
                   help="approved baseline file")
    add_json_flag(p)
    p.set_defaults(func=cmd_flash)


def _overrides(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        check, sep, reason = item.partition("=")
        if not sep or not check.strip() or not reason.strip():
            raise ConfigError(f"--override {item!r} must be CHECK=REASON",
                              hint='e.g. --override baseline="campaign 24-031 before release"')
        out[check.strip()] = reason.strip()
    return out


def print_plan(prep: FlashPreparation) -> None:
    for c in prep.report.checks:
        print(f"{MARKS[c.passed]}  package {c.name:10} {c.detail}")
    plan = prep.plan
    if plan is None:
        if prep.report.error is not None and prep.report.error.hint:
            print(f"  -> {prep.report.error.hint}")
        return
    for reason in plan.problems:
        print(f"FAIL  plan    {reason}")
    for e in plan.ecus:
        print(f"\n{e.ecu}: {e.version_before or '?'} -> {e.update.new_version}, {e.mode}, "
              f"{e.wire_bytes} bytes on the bus, about {e.estimate_s:.0f} s"
              + (" (resume)" if e.resume else ""))
        for pc in e.checks:
            mark = "OVERRIDDEN" if pc.overridden else MARKS[pc.passed]
            extra = (" [overridable]" if pc.overridable and not pc.passed and not pc.overridden
                     else f" (reason: {pc.overridden})" if pc.overridden else "")
            print(f"  {mark:<10} {pc.name:<14} {pc.detail}{extra}")
        print("  steps: " + " -> ".join(e.steps))
    if plan.ecus:  # a plan refused as a whole (another model, an ECU it lacks) plans none
        waves = " then ".join("+".join(w) for w in plan.waves)
        print(f"\norder: {waves}; about {plan.estimate_s:.0f} s")
    print("plan BLOCKED: nothing will be written" if plan.blocked else "plan ready")


class CancelWatch:
    """What one Ctrl-C during a flash does, from the flash's own events: an ECU being
    programmed finishes (stopping it half-way would leave it in its bootloader), the ECUs
    not started stay unchanged."""

    def __init__(self) -> None:
        self.safe = True
        self.working: list[str] = []  # ECUs being programmed in the current wave

    def __call__(self, event: Event) -> None:
        if isinstance(event, FlashOverall):
            self.safe = event.safe_to_cancel
            self.working = []
        elif isinstance(event, EcuStep) and not self.safe and event.ecu not in self.working:
            self.working = [*self.working, event.ecu]
        elif isinstance(event, EcuFinished) and event.ecu in self.working:
            self.working = [n for n in self.working if n != event.ecu]

    def what_next(self) -> str:
        working = list(self.working)
        if self.safe:
            return ("cancelling now: no ECU is being programmed; the ECUs not yet started "
                    "stay unchanged")
        who = ", ".join(working) if working else "the ECU being programmed"
        return (f"cancel at the next safe point: after {who} "
                f"{'finish' if len(working) > 1 else 'finishes'} (stopping in the middle "
                "would leave it in its bootloader); the ECUs not yet started stay unchanged. "
                "Ctrl-C again stops at once")


def progress_printer(args: argparse.Namespace, wire_limited: bool = True,
                     link: str = "bus") -> EventSink:
    """One progress line per ECU event on a terminal: bar, rate against the bus limit, ETA.
    `wire_limited` False: the simulated bus without its rate model, which carries frames as
    fast as the PC makes them, so the rate is not compared with the bus limit it exceeds."""
    err = raw_stderr()
    quiet = args.json or not err.isatty()
    last = [0.0]

    def show(event: Event) -> None:
        if isinstance(event, SleepInhibit):
            if not event.held:  # said even to a log: the technician must act on it
                print(f"warning: {event.describe()}", file=sys.stderr)
        elif quiet:
            return
        elif isinstance(event, FlashProgress):
            now = time.monotonic()
            if now - last[0] < 0.1 and event.done < event.total:
                return
            last[0] = now
            filled = BAR * event.done // max(event.total, 1)
            eta = f"{event.eta_s:4.0f} s" if event.eta_s is not None else "   ? s"
            line = (f"  {printable(event.ecu):<14} [{'#' * filled}{'.' * (BAR - filled)}] "
                    f"{100 * event.done // max(event.total, 1):3d}%  "
                    + (f"{event.rate_bps / 1000:6.1f} kB/s of {event.bus_limit_bps / 1000:.1f}"
                       if wire_limited else
                       f"{event.rate_bps / 1000:6.1f} kB/s simulated (a real {link}: at most "
                       f"{event.bus_limit_bps / 1000:.1f})")
                    + f"  ETA {eta}")
            err.write("\r" + line)
            err.flush()
        elif isinstance(event, EcuStep):
            err.write(f"\r\x1b[K  {printable(event.ecu):<14} {event.index:>2}/{event.total} "
                      f"{printable(event.step)}\n")
        elif isinstance(event, EcuFinished):
            o = event.result
            what = getattr(o, "outcome", "done") if event.ok else event.error
            err.write(f"\r\x1b[K  {printable(event.ecu):<14} {printable(str(what))}\n")
        elif isinstance(event, FlashOverall) and event.phase == "programming":
            err.write(f"\r\x1b[K  overall: {event.finished}/{event.total} ECUs done; cancel "
                      f"{'is safe now' if event.safe_to_cancel else 'waits for a safe point'}"
                      "\n")
    return show


def exit_code(result: FlashResult) -> int:
    if result.ok:
        return EXIT_OK
    return EXIT_VEHICLE if result.worst == "resumable" else EXIT_FAILED


def print_result(result: FlashResult) -> None:
    for o in result.ecus:
        print(f"{o.ecu:<14} {o.outcome.upper():<11} {o.version_before or '?'} -> "
              f"{o.version_after or '?'}  {o.mode}, {o.wire_bytes} bytes on the bus, "
              f"{o.duration_s:.1f} s")
        if o.detail:
            print(f"  {o.detail}")
        if o.dtcs_cleared:
            print(f"  cleared DTCs set during programming: {', '.join(o.dtcs_cleared)}")


def _check_package_arg(text: str) -> None:
    """What find_package cannot tell apart from a missing name, said in words."""
    if not text.strip():
        raise ConfigError("no package given",
                          hint="give a .wspkg file or the name of a stored package "
                               "(e.g. engine-1.1.0), or 'resume'")
    path = Path(text).expanduser()
    if path.is_dir():
        raise ConfigError(f"package {path} is a folder, not a package file",
                          hint="give the path of a .wspkg file in it")


def _check_override_names(prep: FlashPreparation, overrides: dict[str, str]) -> None:
    """An override that names no check of the plan (a typo) is refused, not ignored."""
    plan = prep.plan
    if plan is None or not plan.ecus:
        return
    checks = {c.name for e in plan.ecus for c in e.checks}
    ecus = {e.ecu for e in plan.ecus}
    for key in overrides:
        ecu, dot, check = key.rpartition(".")
        if check not in checks or (dot and ecu not in ecus):
            raise ConfigError(
                f"--override {key}: this plan has no check {key!r}",
                hint=f"name one of its checks ({', '.join(sorted(checks))}), alone or as "
                     f"ECU.check with ECU one of {', '.join(sorted(ecus))}")


def cmd_flash(args: argparse.Namespace) -> int:
    if args.package == "resume":
        return _resume(args)
    _check_package_arg(args.package)
    overrides = _overrides(args.override)
    with connect(args) as conn:
        package = find_package(args.package, simulated=conn.adapter.is_simulated,
                               vehicle=conn.vehicle.name)
        prep = prepare_flash(conn, package, trust_dir=args.trust, baseline_path=args.baseline,
                             mode=args.mode, only=args.ecu, overrides=overrides)
        _check_override_names(prep, overrides)
        return _run(args, conn, [prep])


def _resume(args: argparse.Namespace) -> int:
    given = [flag for flag, value in (("--ecu", args.ecu), ("--override", args.override),
                                      ("--mode", args.mode != "auto")) if value]
    if given:
        raise ConfigError(f"'flash resume' takes no {', '.join(given)}: it finishes each "
                          "interrupted flash as it was planned, with its own ECUs, mode and "
                          "overrides", hint="run 'workshop flash resume' alone")
    with connect(args) as conn:
        try:
            preps = prepare_resume(conn, trust_dir=args.trust, baseline_path=args.baseline)
        except NothingToResumeError as exc:
            if args.json:
                print_json({"resumed": [], "message": exc.message})
            else:
                print(exc.message)
            return EXIT_OK
        return _run(args, conn, preps)


def _run(args: argparse.Namespace, conn: Any, preps: list[FlashPreparation]) -> int:
    if args.dry_run or not all(p.ready for p in preps):
        if args.json:
            print_json({"dry_run": args.dry_run, "ready": all(p.ready for p in preps),
                        "preparations": [p.to_json() for p in preps]})
        else:
            for p in preps:
                print_plan(p)
        return EXIT_OK if all(p.ready for p in preps) else EXIT_FAILED
    if not args.json:
        for p in preps:
            print_plan(p)
    names = [e.ecu for p in preps if p.plan for e in p.plan.ecus]
    if not confirm(f"Flash {', '.join(names)} on {conn.vehicle.name}? Keep the ignition on "
                   "and the battery charged until it is done.", args.yes):
        print("not confirmed; nothing was written", file=sys.stderr)
        return EXIT_USAGE
    results = []
    unlimited = conn.adapter.is_simulated and not conn.adapter.rate_model
    watch, show = CancelWatch(), progress_printer(
        args, wire_limited=not unlimited,
        link="100 Mbit/s Ethernet link" if conn.adapter.is_doip else "bus")

    def events(event: Event) -> None:
        watch(event)
        show(event)

    with cancel_on_ctrl_c(diagnose.new_cancel_token(), watch.what_next) as token:
        for p in preps:
            results.append(run_flash(conn, p, events=events, cancel=token))
    if args.json:
        print_json(results[0].to_json() if len(results) == 1 else
                   {"results": [r.to_json() for r in results]})
    else:
        for r in results:
            print_result(r)
        if token.cancelled:
            print("cancelled with Ctrl-C at a safe point: an ECU being programmed then was "
                  "finished (its outcome above); the ECUs REFUSED were not started")
    code = max(exit_code(r) for r in results)
    only_cancelled = all(o.outcome in ("success", "refused") for r in results for o in r.ecus)
    return EXIT_CANCELLED if token.cancelled and code == EXIT_FAILED and only_cancelled \
        else code
