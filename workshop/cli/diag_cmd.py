"""`adapters`, `scan`, `ecu info`, `dtc read`, `dtc clear`, `sim reset`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from workshop.cli.options import adapter_config, confirm, vehicle
from workshop.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_json_flag,
    print_json,
    raw_stderr,
)
from workshop.cli.sim_serve_cmd import register_serve
from workshop.diagnostics import described
from workshop.diagnostics.bootloader import IN_BOOTLOADER, RESUME_COMMAND, in_bootloader
from workshop.diagnostics.dtc_details import describe, detail_lines, details_json, status_words
from workshop.diagnostics.scan import EcuScan, VehicleScan
from workshop.foundation.events import (
    CancelToken,
    EcuFinished,
    EcuStep,
    Event,
    EventSink,
    ignore_events,
)
from workshop.foundation.settings import load_settings
from workshop.foundation.text import printable
from workshop.services import diagnose
from workshop.services.audit_trail import open_audit_log
from workshop.services.connection import VehicleConnection
from workshop.simulator import reset_vehicle_state
from workshop.transport.adapters import (
    DOIP,
    SIM_DOIP,
    detect_adapters,
    interface_names,
    interface_status,
)
from workshop.vehicles.data_ids import NO_DESCRIPTIONS, DataDescriptions
from workshop.vehicles.odx import Service, VariantSummary


def register(sub: Any) -> None:
    p = sub.add_parser("adapters", help="list adapter names and detected adapters")
    add_json_flag(p)
    p.set_defaults(func=cmd_adapters)

    p = sub.add_parser("scan", help="identify every ECU and read its DTCs")
    p.add_argument("--sequential", action="store_true", help="one ECU after another")
    p.add_argument("--no-discovery", action="store_true",
                   help="only the ECUs of the vehicle definition")
    p.add_argument("--record", action=argparse.BooleanOptionalAction, default=None,
                   help="write the identification (VIN, software per ECU) to the audit log "
                   "for the central store's fleet answers (default: when a store is "
                   "configured)")
    add_json_flag(p)
    p.set_defaults(func=cmd_scan)

    ecu = sub.add_parser("ecu", help="one ECU").add_subparsers(dest="ecu_command", required=True)
    p = ecu.add_parser("info", help="identification of one ECU")
    p.add_argument("ecu")
    add_json_flag(p)
    p.set_defaults(func=cmd_ecu_info)

    dtc = sub.add_parser("dtc", help="read or clear DTCs").add_subparsers(
        dest="dtc_command", required=True)
    p = dtc.add_parser("read", help="read DTCs with status, snapshot and extended data")
    p.add_argument("--ecu", help="only this ECU")
    p.add_argument("--raw", action="store_true",
                   help="also show the status byte and each value's bytes in hex")
    add_json_flag(p)
    p.set_defaults(func=cmd_dtc_read)
    p = dtc.add_parser("clear", help="clear DTCs on one ECU or on all (functional request)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--ecu", help="clear this ECU")
    target.add_argument("--all", action="store_true", help="clear every ECU at once")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_json_flag(p)
    p.set_defaults(func=cmd_dtc_clear)

    sim = sub.add_parser("sim", help="the simulated vehicle").add_subparsers(
        dest="sim_command", required=True)
    p = sim.add_parser("reset", help="restore the simulated vehicle's factory state")
    p.add_argument("name", nargs="?", help="vehicle (default: --vehicle)")
    add_json_flag(p)
    p.set_defaults(func=cmd_sim_reset)
    register_serve(sim)


def connect(args: argparse.Namespace) -> VehicleConnection:
    v = vehicle(args)
    return VehicleConnection(adapter_config(args, v), v)


def event_printer(args: argparse.Namespace) -> EventSink:
    """Per-ECU progress on stderr for a person at a terminal; nothing otherwise."""
    if args.json or not sys.stderr.isatty():
        return ignore_events

    def show(event: Event) -> None:
        if isinstance(event, EcuStep):
            print(f"  {event.ecu:<14} {event.step}", file=sys.stderr)
        elif isinstance(event, EcuFinished):
            print(f"  {event.ecu:<14} {'done' if event.ok else event.error}", file=sys.stderr)
    return show


SAFE_POINT = ("cancelling at the next safe point (between ECUs and steps); Ctrl-C again "
              "stops at once")


def say_now(text: str) -> None:
    """One line on stderr from a signal handler: one os.write of sanitised text, which
    cannot collide with a buffered write the interrupted code was in the middle of."""
    line = ("\r\x1b[K" if sys.stderr.isatty() else "\n") + printable(text) + "\n"
    with contextlib.suppress(OSError, ValueError):
        os.write(raw_stderr().fileno(), line.encode("utf-8", "replace"))


@contextmanager
def cancel_on_ctrl_c(token: CancelToken,
                     what_next: Callable[[], str] = lambda: SAFE_POINT
                     ) -> Iterator[CancelToken]:
    """Ctrl-C cancels the work at its next safe point (exit 5) and says at once what happens
    next (`what_next`); a second Ctrl-C interrupts at once. Signal handlers can only be set
    from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield token
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        say_now(what_next())

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield token
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_adapters(args: argparse.Namespace) -> int:
    detected = detect_adapters()
    status = interface_status()
    if args.json:
        print_json({"interfaces": interface_names(), "ethernet": [DOIP, SIM_DOIP],
                    "modules": [vars(s) for s in status],
                    "detected": [vars(d) for d in detected]})
        return EXIT_OK
    print("detected:")
    for d in detected:
        print(f"  {d.interface:<12} {d.channel}")
    print("adapter names: " + ", ".join(interface_names()))
    print(f"over Ethernet (DoIP): {DOIP} (--host ADDRESS [--port N]), {SIM_DOIP} (the "
          "simulated vehicle's gateway)")
    print("python-can interface modules:")
    for s in status:
        print(f"  {s.name:<14} {'loads' if s.loads else 'needs: ' + s.problem}")
    return EXIT_OK


def _print_ecu(e: EcuScan, dtc_only: bool = False,
               descriptions: DataDescriptions = NO_DESCRIPTIONS, raw: bool = False) -> None:
    print(f"{e.name:<14} {e.address}")
    if e.in_bootloader:
        print(f"  ! IN BOOTLOADER: {e.name} {IN_BOOTLOADER}; no DTCs to read there")
        print(f"  -> run '{RESUME_COMMAND}' to finish the flash")
    elif e.error:
        print(f"  ! {e.error}")
    if e.variant_note:
        print(printable(f"  ! {e.variant_note}"))
    if not dtc_only:
        for key, value in e.identity.by_name().items():
            print(printable(f"  {key:<34} {value}"))
    for d in e.dtcs:
        details = describe(e.name, d, descriptions)
        print(f"  {d.code}  {printable(d.text)}")
        for line in detail_lines(details, raw=raw, meanings=dtc_only):
            print(f"    {printable(line)}")


def _scan_state(e: EcuScan) -> str:
    if e.in_bootloader:
        return f"IN BOOTLOADER: run '{RESUME_COMMAND}'"
    if not e.responded:
        return "no answer"
    if e.error:
        return e.error
    return f"{len(e.dtcs)} DTC"


def cmd_scan(args: argparse.Namespace) -> int:
    with connect(args) as conn, cancel_on_ctrl_c(diagnose.new_cancel_token()) as token:
        result = diagnose.scan(conn, discover=not args.no_discovery,
                               concurrent=not args.sequential, events=event_printer(args),
                               cancel=token)
        record = args.record if args.record is not None else bool(load_settings().store)
        recorded = None
        if record:
            with open_audit_log(simulated=conn.adapter.is_simulated) as log:
                recorded = diagnose.record_identification(result, log)
    if args.json:
        print_json(result.to_json())
    else:
        vin = result.vin
        flag = f" (INVALID: {result.vin_problem})" if result.vin_problem else ""
        print(f"vehicle {result.vehicle}  VIN {vin}{flag}  "
              f"{len(result.ecus)} ECUs in {result.duration_s:.2f} s")
        for e in result.ecus:
            sw = e.identity.software_version or "-"
            print(f"  {e.name:<14} {e.identity.part_number or '-':<18} sw {sw:<8} "
                  f"{_scan_state(e)}")
            for label, why in e.identity.failed_by_name().items():
                print(f"      {label} not read: {why}")
            if e.vin_problem and e.identity.vin != vin:
                print(f"      VIN {e.identity.vin} INVALID: {e.vin_problem}")
        _print_bootloader_footer(result)
        if recorded is not None:
            print(f"identification recorded in the audit log (seq {recorded})")
    return EXIT_OK if all(e.error is None for e in result.ecus) else EXIT_FAILED


def _print_bootloader_footer(result: VehicleScan) -> None:
    stuck = result.in_bootloader
    if stuck:
        print(f"\n{', '.join(stuck)} {'sit' if len(stuck) > 1 else 'sits'} in the bootloader: "
              f"a flash was interrupted. Run '{RESUME_COMMAND}' to finish it.")


def cmd_ecu_info(args: argparse.Namespace) -> int:
    with connect(args) as conn, conn.client(args.ecu) as ecu:
        name = ecu.target.name
        definition = next((e for e in conn.vehicle.ecus if e.name == name), None)
        identity, variant, note = described.read_identity(ecu, definition,
                                                          conn.vehicle.descriptions)
        boot = identity.software_version is None and in_bootloader(ecu, definition)
    odx = definition.odx if definition is not None else None
    if args.json:
        print_json({"name": name, "identification": identity.by_name(),
                    "identification_failed": identity.failed_by_name(),
                    "in_bootloader": boot,
                    "description": None if odx is None else {
                        "file": odx.file.name, "variant": variant,
                        "identified": odx.variant is None and not note, "assumed": note or None,
                        "conflicts": list(odx.conflicts),
                        **_services(odx.summary(variant))}})
    else:
        print(name)
        if odx is not None:
            how = "identified from its answers" if odx.variant is None else "named"
            print(printable(f"  description {odx.file.name}, variant {variant} "
                            f"({'assumed' if note else how})"))
            if note:
                print(printable(f"  ! {note}"))
            for text in odx.conflicts:
                print(printable(f"  ! the definition and {odx.file.name} disagree: {text}"))
            for kind, names in _services(odx.summary(variant)).items():
                if names:
                    print(printable(f"  {kind}: {', '.join(names)}"))
        if boot:
            print(f"  IN BOOTLOADER: {name} {IN_BOOTLOADER}")
            print(f"  -> run '{RESUME_COMMAND}' to finish the flash")
        for key, value in identity.by_name().items():
            print(printable(f"  {key:<34} {value}"))
        for key, why in identity.failed_by_name().items():
            print(f"  {key:<34} not read: {why}")
    return EXIT_OK


def cmd_dtc_read(args: argparse.Namespace) -> int:
    with connect(args) as conn, cancel_on_ctrl_c(diagnose.new_cancel_token()) as token:
        result = diagnose.read_dtcs(conn, only=[args.ecu] if args.ecu else None,
                                    events=event_printer(args), cancel=token)
    if args.json:
        print_json({"vin": result.vin, "in_bootloader": result.in_bootloader, "ecus": [
            {"name": e.name, "error": e.error, "variant": e.variant,
             "variant_note": e.variant_note or None, "dtcs": [
                dict(d.to_json(), status_words=status_words(d.status),
                     **details_json(describe(e.name, d, _descriptions(conn, e))))
                for d in e.dtcs],
             "in_bootloader": e.in_bootloader}
            for e in result.ecus]})
    else:
        for e in result.ecus:
            _print_ecu(e, dtc_only=True, descriptions=_descriptions(conn, e), raw=args.raw)
        _print_bootloader_footer(result)
    return EXIT_OK if all(e.error is None for e in result.ecus) else EXIT_FAILED


def _services(summary: VariantSummary) -> dict[str, list[str]]:
    """The description's sessions, security levels and routines, each with its request."""
    def named(services: list[Service]) -> list[str]:
        return [s.name + (f" ({s.request_prefix.upper()})" if s.request_prefix else "")
                for s in services]
    return {"sessions": named(summary.sessions), "security": named(summary.security),
            "routines": named(summary.routines)}


def _descriptions(conn: VehicleConnection, e: EcuScan) -> DataDescriptions:
    definition = next((x for x in conn.vehicle.ecus if x.name == e.name), None)
    return described.descriptions(conn.vehicle.descriptions, definition, e.variant)


def cmd_dtc_clear(args: argparse.Namespace) -> int:
    what = "every ECU" if args.all else args.ecu
    if not confirm(f"Clear all DTCs on {what}?", args.yes):
        print("nothing cleared", file=sys.stderr)
        return EXIT_USAGE
    with connect(args) as conn, open_audit_log(simulated=conn.adapter.is_simulated) as log, \
            cancel_on_ctrl_c(diagnose.new_cancel_token()) as token:
        events = event_printer(args)
        results = (diagnose.clear_all(conn, log, events=events, cancel=token) if args.all
                   else [diagnose.clear_ecu(conn, args.ecu, log, events=events, cancel=token)])
    if args.json:
        print_json({"cleared": [{"ecu": r.ecu, **r.to_json()} for r in results]})
    else:
        for r in results:
            still = f"  (still stored: {', '.join(r.remaining)})" if r.remaining else ""
            print(f"  {r.ecu:<14} {'cleared' if r.ok else 'NOT cleared: ' + r.detail}{still}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def cmd_sim_reset(args: argparse.Namespace) -> int:
    name = args.name or args.vehicle
    had_state = reset_vehicle_state(name)
    if args.json:
        print_json({"vehicle": name, "reset": True, "had_state": had_state})
    else:
        print(f"simulated vehicle {name!r} restored to factory state")
    return EXIT_OK
