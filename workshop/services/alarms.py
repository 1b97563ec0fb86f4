"""Resolving a tamper alarm: an auditor inspects it and records a signed resolution in the
central store; the workstation pulls it at its next sync, checks it, and writes a record
closing its alarm, so `audit verify` and `store verify` report the alarm as resolved (by
whom, when, why) instead of failing.

The resolution is signed by the auditor's own workstation identity (a dealer-CA certificate,
checked exactly as an audit record's signer is) over a text that names the alarm; the store
adds who recorded it and when (its role and clock). Only an auditor role may insert one: the
database refuses a workstation. The log that raised the alarm stays evidence and is still not
pushed; setting it aside starts a new log, which syncs as any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from workshop.audit import AuditLog, AuditSigner, ChainVerifier
from workshop.audit.errors import AuditError
from workshop.audit.records import (
    STORE_ALARM_ACTION,
    STORE_RESOLVED_ACTION,
    Record,
    canonical_json,
    utc_now,
)
from workshop.audit.signing import certificate_key, chain_pem, signature_valid, workstation_id
from workshop.foundation.errors import ConfigError
from workshop.services.identity import technician
from workshop.store.errors import StoreError
from workshop.store.session import Alarm, Resolution, StoreSession

KIND = "workshop-alarm-resolution/1"
DOMAIN = b"workshop-alarm-resolution/1\n"  # a resolution signature is never a record's
MAX_REASON = 2000


def resolve_alarm(dsn: str, workstation: str, seq: int, reason: str,
                  signer: AuditSigner) -> list[Alarm]:
    """As an auditor: sign and store a resolution of every alarm `workstation` raised at
    `seq`; returns them. StoreError in words when there is none, or the role may not."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON or not reason.isprintable():
        raise ConfigError("the resolution needs a reason: one line of plain text, at most "
                          f"{MAX_REASON} characters", hint="say what was found and done")
    with StoreSession(dsn) as store:
        found = [a for a in store.alarms() if a.workstation == workstation and a.seq == seq]
        if not found:
            raise StoreError(f"no tamper alarm from {workstation!r} at seq {seq}",
                             hint="`workshop store verify` lists the alarms and which are "
                                  "resolved")
        for alarm in found:
            body = canonical_json({
                "kind": KIND, "alarm": alarm.id, "workstation": alarm.workstation,
                "log": alarm.log, "seq": alarm.seq, "alarm_reason": alarm.reason,
                "reason": reason, "auditor": signer.workstation, "time": utc_now()})
            store.resolve(body, signer.sign(DOMAIN + body.encode()), chain_pem(signer.chain))
    return found


@dataclass(frozen=True)
class CheckedResolution:
    alarm: int
    workstation: str
    log: str
    seq: int
    reason: str
    auditor: str  # the CN of the certificate that signed it
    resolved_by: str  # the database role that stored it (the server's word)
    resolved_at: str
    problem: str | None  # why it cannot be trusted; None when it verifies

    def text(self) -> str:
        return (f"resolved by auditor {self.auditor} (role {self.resolved_by}) at "
                f"{self.resolved_at}: {self.reason}")


def check_resolution(stored: Resolution, verify_chain_fn: ChainVerifier | None
                     ) -> CheckedResolution:
    """The resolution's claims, with `problem` set when its signature, its signer's chain
    (as an audit signer's: a dealer-CA workstation certificate) or its text is wrong."""
    try:
        body = json.loads(stored.body)
        fields = (int(body["alarm"]), str(body["workstation"]), str(body["log"]),
                  int(body["seq"]), str(body["reason"]), str(body["auditor"]))
        ok_kind = body.get("kind") == KIND
    except (ValueError, KeyError, TypeError):
        return CheckedResolution(stored.alarm, "", "", -1, "", "", stored.resolved_by,
                                 stored.resolved_at, "the resolution is malformed")
    problem = None if ok_kind and fields[0] == stored.alarm else "the resolution is malformed"
    try:
        chain = x509.load_pem_x509_certificates(stored.chain.encode())
        if not signature_valid(certificate_key(chain[0]), stored.signature,
                               DOMAIN + stored.body.encode()):
            problem = problem or "its signature does not verify (forged or altered)"
        elif workstation_id(chain[0]) != fields[5]:
            problem = problem or "it is signed by another identity than the auditor it names"
        elif verify_chain_fn is not None:
            verify_chain_fn(chain)
    except (ValueError, IndexError, AuditError) as exc:
        problem = problem or f"its signer cannot be checked ({exc})"
    except Exception as exc:  # the chain verifier's TrustError, said in words
        problem = problem or f"its signer is not trusted: {getattr(exc, 'message', exc)}"
    return CheckedResolution(*fields, stored.resolved_by, stored.resolved_at, problem)


def open_alarms(records: list[Record]) -> dict[int, Record]:
    """The store alarm each open alarm record is about (its `seq` detail) -> that record."""
    closed = {r.details.get("alarm_seq") for r in records if r.action == STORE_RESOLVED_ACTION}
    return {int(r.details.get("seq", -1)): r for r in records
            if r.action == STORE_ALARM_ACTION and r.seq not in closed}


def close_resolved(store: StoreSession, log_id: str, log_path: Path, records: list[Record],
                   signer: AuditSigner, verify_chain_fn: ChainVerifier | None
                   ) -> tuple[list[str], list[str]]:
    """Pull the resolutions of this log's open alarms and close each that verifies with a
    record in the log. Returns (what was resolved, resolutions refused), in words."""
    pending = open_alarms(records)
    resolved, refused = [], []
    for stored in store.resolutions(log_id):
        checked = check_resolution(stored, verify_chain_fn)
        alarm = pending.get(checked.seq)
        if alarm is None or checked.log != log_id:
            continue
        if checked.problem is not None:
            refused.append(f"resolution of the alarm at seq {alarm.seq}: {checked.problem}")
            continue
        with AuditLog.open(log_path, signer) as log:
            log.append(STORE_RESOLVED_ACTION, vin=None, ecu=None, technician=technician(),
                       details={"alarm_seq": alarm.seq, "store_alarm": checked.alarm,
                                "reason": checked.reason, "auditor": checked.auditor,
                                "resolved_by": checked.resolved_by,
                                "resolved_at": checked.resolved_at,
                                "resolution": stored.body, "signature": stored.signature})
        del pending[checked.seq]
        resolved.append(f"the alarm at seq {alarm.seq} was {checked.text()}")
    return resolved, refused
