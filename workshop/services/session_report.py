"""What a customer report says about a session, without Qt: the latest reading of each ECU
(and when it was read), the DTCs before the repair and now, what was changed and by which
signed records, and the audit log's signed head. The app renders it to PDF (ui/report.py).

Each ECU's entry is its latest reading: a DTC read after a clear replaces that ECU's DTCs, a
scan after a flash its versions; a reading that failed keeps the last good one and says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from workshop.audit.wording import describe_record
from workshop.diagnostics.scan import EcuScan, VehicleScan
from workshop.foundation.errors import WorkshopError
from workshop.services import audit_trail
from workshop.uds.dtc_records import Dtc


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class EcuReading:
    name: str
    address: str = ""
    part_number: str = ""
    hardware: str = ""
    software: str = ""
    identity_at: dt.datetime | None = None
    dtcs: list[Dtc] = field(default_factory=list)
    dtcs_at: dt.datetime | None = None
    first_dtcs: list[Dtc] | None = None  # the first reading of the session: before the repair
    first_dtcs_at: dt.datetime | None = None
    problem: str = ""  # why the latest attempt did not read it


@dataclass
class Readings:
    """The latest reading of each ECU in this session."""

    ecus: dict[str, EcuReading] = field(default_factory=dict)
    vin: str | None = None

    def update(self, scan: VehicleScan, at: dt.datetime | None = None) -> None:
        """Take what `scan` read (a full scan, or a DTC read): identity where it was read,
        DTCs where they were read; an ECU that did not answer keeps its last reading."""
        when = at or _now()
        if scan.vin:
            self.vin = scan.vin
        for e in scan.ecus:
            r = self.ecus.setdefault(e.name, EcuReading(e.name))
            r.address = e.address or r.address
            self._identity(r, e, when)
            if e.responded and not e.in_bootloader and (e.dtcs or not e.error):
                r.dtcs, r.dtcs_at, r.problem = list(e.dtcs), when, ""
                if r.first_dtcs is None:
                    r.first_dtcs, r.first_dtcs_at = list(e.dtcs), when
            else:
                r.problem = ("in its bootloader (an interrupted flash)" if e.in_bootloader
                             else e.error or "no answer")

    @staticmethod
    def _identity(r: EcuReading, e: EcuScan, when: dt.datetime) -> None:
        ident = e.identity
        if ident.software_version or ident.part_number or ident.hardware_number:
            r.part_number = ident.part_number or r.part_number
            r.hardware = ident.hardware_number or r.hardware
            r.software = ident.software_version or r.software
            r.identity_at = when

    def sorted(self) -> list[EcuReading]:
        return [self.ecus[n] for n in sorted(self.ecus)]


@dataclass(frozen=True)
class Change:
    """One ECU changed by a flash, from its signed records."""

    ecu: str
    before: str
    after: str
    outcome: str
    package: str
    signer: str
    record: int  # seq of the ECU's outcome record
    intent: int  # seq of the flash's intent record


@dataclass
class AuditFacts:
    records: list[tuple[int, str, str, str]] = field(default_factory=list)  # seq, time, what
    changes: list[Change] = field(default_factory=list)
    head_seq: int | None = None
    head_hash: str = ""
    checkpoint_seq: int | None = None
    verified: bool = False
    signers: list[str] = field(default_factory=list)
    problem: str = ""


_SHOWN = ("flash", "flash.ecu", "dtc.clear")


def audit_facts(since: dt.datetime, vin: str | None = None, limit: int = 2000) -> AuditFacts:
    """The session's flash and clear records (time >= since, of this VIN when known), the
    ECU changes they vouch for and the log's signed head."""
    try:
        records, result = audit_trail.recent_records(limit)
    except WorkshopError as exc:
        return AuditFacts(problem=exc.message)
    facts = AuditFacts(head_seq=result.last_seq, head_hash=result.last_hash,
                       checkpoint_seq=result.checkpoint_seq, verified=result.ok,
                       signers=[f"{s.workstation}: {getattr(s.status, 'value', s.status)}"
                                for s in result.signers.values()])
    mine = sorted((r for r in records if _time(r.time) >= since
                   and (vin is None or r.vin in (None, vin))), key=lambda r: r.seq)
    intents: dict[int, Any] = {}
    for r in mine:
        if r.action == "flash" and r.details.get("phase") == "intent":
            intents[r.seq] = r.details.get("request", {})
        if r.action not in _SHOWN or (r.details.get("phase") == "intent" and r.action != "flash"):
            continue
        if r.action == "flash.ecu" and r.details.get("phase") == "outcome":
            result_ = r.details.get("result", {})
            flash_seq = _flash_intent(mine, r)
            req = intents.get(flash_seq, {})
            facts.changes.append(Change(
                r.ecu or "", str(result_.get("version_before") or "?"),
                str(result_.get("version_after") or "?"), str(result_.get("outcome", "")),
                str(req.get("package", "")), str(req.get("signer", "")), r.seq, flash_seq))
        facts.records.append((r.seq, r.time, r.action, describe_record(r.action, r.details)))
    return facts


def _flash_intent(records: list[Any], outcome: Any) -> int:
    """The flash (vehicle) intent an ECU's outcome belongs to: its ECU intent names it."""
    ecu_intent = next((r for r in records if r.seq == outcome.details.get("intent_seq")), None)
    if ecu_intent is not None:
        req = ecu_intent.details.get("request", {})
        if isinstance(req, dict) and isinstance(req.get("flash_seq"), int):
            return int(req["flash_seq"])
    return 0


def _time(text: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
