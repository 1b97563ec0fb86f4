"""Scan the vehicle and read or clear DTCs: the use cases behind `scan` and `dtc`.

Each use case takes an `EventSink` (per-ECU started, step and finished events, the
finished event carrying the ECU's result) and a `CancelToken` from `new_cancel_token()`,
checked between ECUs and steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workshop.audit import AuditLog, intent_and_outcome
from workshop.diagnostics.bootloader import IN_BOOTLOADER, RESUME_COMMAND, in_bootloader
from workshop.diagnostics.described import VehicleDescriptions
from workshop.diagnostics.errors import ClearNotVerifiedError, NoEcuAnsweredError
from workshop.diagnostics.scan import VehicleScan, scan_vehicle
from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import (
    CancelToken,
    EcuFinished,
    EcuStarted,
    EventSink,
    ignore_events,
)
from workshop.services.audit_trail import technician
from workshop.services.connection import VehicleConnection
from workshop.uds.client import EcuTarget
from workshop.uds.dtc import DEFAULT_STATUS_MASK
from workshop.uds.errors import NegativeResponseError
from workshop.uds.identity import decode_did_value
from workshop.uds.nrc import nrc_name

CLEAR_WINDOW_S = 2.0


def new_cancel_token() -> CancelToken:
    """A token for one piece of work; the caller cancels it (a button, Ctrl-C)."""
    return CancelToken()


def scan_targets(conn: VehicleConnection, discover: bool = True) -> list[tuple[EcuTarget, str]]:
    """ECUs of the definition, plus any that answered discovery and are not in it."""
    found = set(conn.discover()) if discover else set()
    targets = []
    for ecu in conn.vehicle.ecus:
        source = "definition+discovered" if ecu.response_id in found else "definition"
        targets.append((conn.target(ecu), source))
        found.discard(ecu.response_id)
    for response_id in sorted(found):
        addr = conn.address_for_response(response_id)
        targets.append((conn.target(addr, f"ECU@{response_id:X}"), "discovered"))
    return targets


def vehicle_descriptions(conn: VehicleConnection | None,
                         scans: list[VehicleScan] | tuple[VehicleScan, ...] = ()
                         ) -> VehicleDescriptions:
    """Names and units for each ECU's DTC details: the definition's tables, then the ECU's
    ODX description in the variant the latest of `scans` found."""
    if conn is None:
        return VehicleDescriptions()
    variants = {e.name: e.variant for scan in scans for e in scan.ecus}
    return VehicleDescriptions(conn.vehicle.descriptions,
                               {e.name: e for e in conn.vehicle.ecus}, variants)


def dtc_texts(conn: VehicleConnection) -> dict[str, str]:
    return {d.code: d.text for e in conn.vehicle.ecus for d in e.dtcs if d.text}


def scan(conn: VehicleConnection, *, only: list[str] | None = None, discover: bool = True,
         concurrent: bool = True, mask: int = DEFAULT_STATUS_MASK,
         events: EventSink = ignore_events, cancel: CancelToken | None = None,
         task: str = "scan") -> VehicleScan:
    """Identify every ECU and read its DTCs. Raises NoEcuAnsweredError when not one ECU
    answered: that is the adapter, the ignition or the bitrate, not the vehicle."""
    cancel = cancel or new_cancel_token()
    targets = scan_targets(conn, discover=discover and not only)
    cancel.raise_if_cancelled()
    if only:
        wanted = {conn.vehicle.ecu(n).name for n in only}
        targets = [t for t in targets if t[0].name in wanted]
    result = scan_vehicle(conn.transport, conn.vehicle.name, targets, dtc_texts(conn),
                          concurrent=concurrent, mask=mask, events=events, cancel=cancel,
                          task=task, definitions={e.name: e for e in conn.vehicle.ecus},
                          descriptions=conn.vehicle.descriptions)
    if result.ecus and not any(e.responded for e in result.ecus):
        tried = ", ".join(e.name for e in result.ecus[:5]) + (
            ", ..." if len(result.ecus) > 5 else "")
        raise NoEcuAnsweredError(
            f"no ECU answered ({len(result.ecus)} tried: {tried})",
            hint=f"check that the adapter is connected to the vehicle's diagnostic bus, the "
                 f"ignition is on, and the bitrate ({conn.adapter.bitrate} bit/s) is the "
                 f"vehicle's")
    return result


SCAN_RECORD_ACTION = "scan.identification"


def record_identification(result: VehicleScan, log: AuditLog) -> int | None:
    """Append what the scan identified (VIN; each answering ECU's software version and part
    number) to the audit log, so the central store knows each ECU's last known software
    from scans too, not only from flashes. Returns the record's seq; None (nothing written)
    when no ECU reported its software or the vehicle its VIN: there is nothing to know."""
    ecus = {e.name: {"software_version": e.identity.software_version,
                     "part_number": e.identity.part_number}
            for e in result.ecus if e.identity.software_version and not e.in_bootloader}
    if not ecus or result.vin is None:
        return None
    record = log.append(SCAN_RECORD_ACTION, vin=result.vin, ecu=None, technician=technician(),
                        details={"vehicle": result.vehicle, "ecus": ecus,
                                 "vin_conflicts": result.vin_conflicts})
    return record.seq


def read_dtcs(conn: VehicleConnection, *, only: list[str] | None = None,
              mask: int = DEFAULT_STATUS_MASK, events: EventSink = ignore_events,
              cancel: CancelToken | None = None) -> VehicleScan:
    """DTCs of the definition's ECUs (or `only` these); each ECU's result as it completes."""
    return scan(conn, only=only, discover=False, mask=mask, events=events, cancel=cancel,
                task="dtc.read")


@dataclass
class ClearResult:
    ecu: str
    ok: bool
    detail: str
    remaining: list[str] = field(default_factory=list)  # DTCs stored after the clear

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "remaining": self.remaining}


def read_vin(conn: VehicleConnection, ecu_names: list[str]) -> str | None:
    """VIN as the vehicle reports it (first ECU that answers), for the audit record."""
    for name in ecu_names:
        try:
            with conn.client(name) as ecu:
                return decode_did_value(ecu.read_did(0xF190))
        except WorkshopError:
            continue
    return None


def _stuck_in_bootloader(conn: VehicleConnection, name: str) -> bool:
    """Asked after an ECU refused a DTC service: an ECU in its bootloader refuses them all
    (and keeps no DTCs), which the technician must hear as such, not as an NRC."""
    try:
        with conn.client(name) as ecu:
            return in_bootloader(ecu, conn.vehicle.ecu(name))
    except WorkshopError:
        return False


BOOTLOADER_CLEAR = (f"{IN_BOOTLOADER}: it keeps no DTCs until the flash is finished "
                    f"('{RESUME_COMMAND}')")


def _verify(conn: VehicleConnection, name: str, answer: str | None,
            mask: int = DEFAULT_STATUS_MASK) -> ClearResult:
    """Read the ECU's DTCs again after a clear. `answer` is None when the ECU confirmed the
    clear, else why not. DTCs still listed are faults that are still there (set again at
    once) or, after a refused clear, the old memory."""
    try:
        with conn.client(name) as ecu:
            remaining = [d.code for d in ecu.read_dtcs(mask, details=False)]
    except WorkshopError as exc:
        if isinstance(exc, NegativeResponseError) and _stuck_in_bootloader(conn, name):
            return ClearResult(name, False, BOOTLOADER_CLEAR)
        why = (f"NRC 0x{exc.nrc:02X} {nrc_name(exc.nrc)}"
               if isinstance(exc, NegativeResponseError) else exc.message)
        return ClearResult(name, False, answer or f"could not verify: DTC read failed: {why}")
    if answer is not None:
        return ClearResult(name, False, answer, remaining)
    return ClearResult(name, True, "cleared", remaining)


def _audit_results(intent: Any, results: list[ClearResult]) -> None:
    """Per-ECU outcome into the audit record; any ECU not cleared makes it a failure."""
    intent.result = {"ecus": {r.ecu: r.to_json() for r in results}}
    failed = [r.ecu for r in results if not r.ok]
    if failed:
        raise ClearNotVerifiedError(f"not cleared: {', '.join(failed)}")


def clear_ecu(conn: VehicleConnection, ecu_name: str, log: AuditLog, *,
              events: EventSink = ignore_events,
              cancel: CancelToken | None = None) -> ClearResult:
    """Clear one ECU's DTCs and read them again, bracketed by audit intent and outcome."""
    name = conn.vehicle.ecu(ecu_name).name
    if cancel is not None:
        cancel.raise_if_cancelled()
    vin = read_vin(conn, [name])
    events(EcuStarted("dtc.clear", name))
    try:
        with intent_and_outcome(log, "dtc.clear", vin=vin, ecu=name, technician=technician(),
                                details={"group": "FFFFFF", "addressing": "physical"}
                                ) as intent:
            with conn.client(name) as ecu:
                try:
                    ecu.clear_dtcs()
                except NegativeResponseError:
                    if not in_bootloader(ecu, conn.vehicle.ecu(name)):
                        raise
                    refused: str | None = "refused: in its bootloader"
                else:
                    refused = None
            result = _verify(conn, name, refused)
            _audit_results(intent, [result])
    except ClearNotVerifiedError:
        pass
    except WorkshopError as exc:
        events(EcuFinished("dtc.clear", name, ok=False, error=exc.message))
        raise
    events(EcuFinished("dtc.clear", name, ok=result.ok, result=result,
                       error=None if result.ok else result.detail))
    return result


def clear_all(conn: VehicleConnection, log: AuditLog, *, events: EventSink = ignore_events,
              cancel: CancelToken | None = None) -> list[ClearResult]:
    """Functional clear (0x14 FFFFFF to every ECU at once), then each ECU's DTCs read again;
    each ECU's outcome goes into the audit record."""
    cancel = cancel or new_cancel_token()
    names = [e.name for e in conn.vehicle.ecus]
    cancel.raise_if_cancelled()
    vin = read_vin(conn, names)
    cancel.raise_if_cancelled()
    results: list[ClearResult] = []
    try:
        with intent_and_outcome(log, "dtc.clear", vin=vin, ecu="*", technician=technician(),
                                details={"group": "FFFFFF", "addressing": "functional",
                                         "ecus": names}) as intent:
            for name in names:
                events(EcuStarted("dtc.clear", name))
            # Once the clear is sent every ECU is verified: stopping half-way would leave
            # the audit record without the state the vehicle is in.
            answers = {a.response_id: a.payload for a in
                       conn.functional(b"\x14\xff\xff\xff", window_s=CLEAR_WINDOW_S,
                                       until_listed_answered=True)}
            for ecu in conn.vehicle.ecus:
                result = _verify(conn, ecu.name, _refusal(answers.get(ecu.response_id)))
                results.append(result)
                events(EcuFinished("dtc.clear", ecu.name, ok=result.ok, result=result,
                                   error=None if result.ok else result.detail))
            _audit_results(intent, results)
    except ClearNotVerifiedError:
        pass
    return results


def _refusal(payload: bytes | None) -> str | None:
    """None if the functional clear's answer was positive, else what the ECU said."""
    if payload is None:
        return "no answer to the clear"
    if payload[0] == 0x54:
        return None
    nrc = payload[2] if len(payload) >= 3 else 0
    return f"NRC 0x{nrc:02X} {nrc_name(nrc)}"
