"""Scan the vehicle and read or clear DTCs: the use cases behind `scan` and `dtc`."""

from __future__ import annotations

from dataclasses import dataclass

from workshop.audit import AuditLog, intent_and_outcome
from workshop.diagnostics.scan import VehicleScan, scan_vehicle
from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import CancelToken, ProgressSink, ignore_progress
from workshop.services.audit_trail import technician
from workshop.services.connection import VehicleConnection
from workshop.uds.client import EcuTarget
from workshop.uds.dtc import DEFAULT_STATUS_MASK
from workshop.uds.identity import decode_did_value


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


def dtc_texts(conn: VehicleConnection) -> dict[str, str]:
    return {d.code: d.text for e in conn.vehicle.ecus for d in e.dtcs if d.text}


def scan(conn: VehicleConnection, *, only: list[str] | None = None, discover: bool = True,
         concurrent: bool = True, mask: int = DEFAULT_STATUS_MASK,
         progress: ProgressSink = ignore_progress,
         cancel: CancelToken | None = None) -> VehicleScan:
    targets = scan_targets(conn, discover=discover and not only)
    if only:
        wanted = {conn.vehicle.ecu(n).name for n in only}
        targets = [t for t in targets if t[0].name in wanted]
    assert conn.endpoint is not None
    return scan_vehicle(conn.endpoint, conn.vehicle.name, targets, dtc_texts(conn),
                        concurrent=concurrent, mask=mask, progress=progress, cancel=cancel)


@dataclass
class ClearResult:
    ecu: str
    ok: bool
    detail: str


def read_vin(conn: VehicleConnection, ecu_names: list[str]) -> str | None:
    """VIN as the vehicle reports it (first ECU that answers), for the audit record."""
    for name in ecu_names:
        try:
            with conn.client(name) as ecu:
                return decode_did_value(ecu.read_did(0xF190))
        except WorkshopError:
            continue
    return None


def clear_ecu(conn: VehicleConnection, ecu_name: str, log: AuditLog) -> ClearResult:
    """Clear one ECU's DTCs, bracketed by audit intent and outcome records."""
    name = conn.vehicle.ecu(ecu_name).name
    vin = read_vin(conn, [name])
    with intent_and_outcome(log, "dtc.clear", vin=vin, ecu=name, technician=technician(),
                            details={"group": "FFFFFF", "addressing": "physical"}) as intent:
        with conn.client(name) as ecu:
            ecu.clear_dtcs()
        intent.result = {"cleared": [name]}
    return ClearResult(name, True, "cleared")


def clear_all(conn: VehicleConnection, log: AuditLog) -> list[ClearResult]:
    """Functional clear (0x14 FFFFFF to every ECU at once); reports each ECU's answer."""
    names = [e.name for e in conn.vehicle.ecus]
    vin = read_vin(conn, names)
    with intent_and_outcome(log, "dtc.clear", vin=vin, ecu="*", technician=technician(),
                            details={"group": "FFFFFF", "addressing": "functional",
                                     "ecus": names}) as intent:
        answers = {a.response_id: a.payload for a in
                   conn.functional(b"\x14\xff\xff\xff", window_s=2.0)}
        results = [_clear_verdict(ecu.name, answers.get(ecu.response_id))
                   for ecu in conn.vehicle.ecus]
        intent.result = {"cleared": [r.ecu for r in results if r.ok],
                         "not_cleared": {r.ecu: r.detail for r in results if not r.ok}}
    return results


def _clear_verdict(name: str, payload: bytes | None) -> ClearResult:
    if payload is None:
        return ClearResult(name, False, "no answer")
    if payload[0] == 0x54:
        return ClearResult(name, True, "cleared")
    return ClearResult(name, False, f"NRC 0x{payload[2]:02X}")
