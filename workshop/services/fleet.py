"""Group-wide answers from the central store, each checkable from the server's copy alone:
`verify_store` walks every log's chain, signatures, heads and sequence gaps exactly as
`audit verify` walks a local log; `vin_history` is a vehicle's software history across all
workstations, each entry marked with whether its log verifies.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from workshop.audit import (
    Checkpoint,
    Record,
    SignerStatus,
    VerifyResult,
    workstation_chain_verifier,
)
from workshop.audit.verification import verify_chain
from workshop.foundation.errors import WorkshopError
from workshop.packages.baseline import Baseline, load_baseline
from workshop.services.alarms import CheckedResolution, check_resolution
from workshop.store.session import Alarm, StoreSession
from workshop.trust.certs import utcnow
from workshop.trust.store import TrustStore

# the head pushed after the records it covers: records past it are a sync that was cut
# short (they are still each signed), not an append without the key
_UNVOUCHED = "record beyond the signed checkpoint"


@dataclass
class LogReport:
    workstation: str  # the role that pushed it (the server's word)
    log: str
    result: VerifyResult
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"workstation": self.workstation, "log": self.log, "ok": self.ok,
                "records": self.result.records, "last_seq": self.result.last_seq,
                "head_seq": self.result.checkpoint_seq, "problems": self.problems,
                "notes": self.result.notes}


@dataclass
class StoreReport:
    logs: list[LogReport]
    alarms: list[Alarm]
    # alarm id -> its auditor's resolution (checked: `problem` says why it does not count)
    resolutions: dict[int, CheckedResolution] = field(default_factory=dict)
    # where the fleet summary (migration 4) differs from the answer computed from the records
    summary: list[str] = field(default_factory=list)

    def resolution(self, alarm: Alarm) -> CheckedResolution | None:
        found = self.resolutions.get(alarm.id)
        return found if found is not None and found.problem is None else None

    @property
    def ok(self) -> bool:
        return (all(r.ok for r in self.logs) and all(self.resolution(a) for a in self.alarms)
                and not self.summary)

    def to_json(self) -> dict[str, Any]:
        alarms = []
        for a in self.alarms:
            r = self.resolutions.get(a.id)
            alarms.append({**vars(a), "resolution": vars(r) if r else None,
                           "resolved": self.resolution(a) is not None})
        return {"ok": self.ok, "logs": [r.to_json() for r in self.logs], "alarms": alarms,
                "summary_problems": self.summary}


def _parse(body: str, kind: type[Record] | type[Checkpoint]) -> Any:
    try:
        return kind.from_json(json.loads(body))
    except (ValueError, KeyError, TypeError):
        return None


def _certificates(store: StoreSession) -> dict[str, dict[str, list[x509.Certificate]]]:
    """Each workstation's own copies of its signers' chains: a log is verified only with the
    certificates its own workstation pushed."""
    chains: dict[str, dict[str, list[x509.Certificate]]] = {}
    for who, by_fp in store.certificates().items():
        for fp, pem in by_fp.items():
            try:
                chains.setdefault(who, {})[fp] = x509.load_pem_x509_certificates(pem.encode())
            except ValueError:
                chains.setdefault(who, {})[fp] = []  # verification names it unusable
    return chains


def verify_store(dsn: str, trust_dir: Path | None = None, *,
                 only: set[str] | None = None) -> StoreReport:
    """Verify every log the store holds (or the logs in `only`), from the server's copy
    alone (read as an auditor); signer chains are checked against the local trust store."""
    checker = workstation_chain_verifier(trust_dir)
    with StoreSession(dsn) as store:
        certificates = _certificates(store)
        reports = []
        for workstation, log in store.logs():
            if only is not None and log not in only:
                continue
            bodies = store.record_bodies(log)
            records = [_parse(b, Record) for b in bodies]
            heads = [h for h in (_parse(b, Checkpoint) for b in store.head_bodies(log)) if h]
            report = LogReport(workstation, log, VerifyResult())
            if any(r is None for r in records):
                report.problems.append("a stored record is not a workshop audit record")
            result = verify_chain([r for r in records if r is not None],
                                  heads[-1] if heads else None,
                                  certificates.get(workstation, {}), checker,
                                  log_id=log)
            report.result = result
            for p in result.problems:
                if p.reason.startswith(_UNVOUCHED):
                    result.notes.append(f"records after seq {p.seq - 1} were pushed without "
                                        "their head yet (a sync cut short; the next sends it)")
                else:
                    report.problems.append(f"seq {p.seq}: {p.reason}")
            for signer in result.signers.values():
                if signer.workstation != workstation and signer.status is not SignerStatus.DEMO:
                    report.problems.append(
                        f"records signed as {signer.workstation!r} were pushed by "
                        f"{workstation!r}: a workstation pushed another's records")
            reports.append(report)
        checked: dict[int, CheckedResolution] = {}
        for stored in store.resolutions():  # the first that verifies counts
            held = checked.get(stored.alarm)
            if held is None or held.problem is not None:
                checked[stored.alarm] = check_resolution(stored, checker)
        summary = summary_problems(store) if only is None else []
        return StoreReport(reports, store.alarms(), checked, summary)


def summary_problems(store: StoreSession, limit: int = 20) -> list[str]:
    """Where the fleet summary (what `fleet deviations` reads) differs from the same answer
    computed from every record this role may read; empty when they agree."""
    problems = []
    kept = {(k[0], k[1]): k for k in store.last_known()}
    full = {(k[0], k[1]): k for k in store.last_known(from_records=True)}
    for key in sorted(kept.keys() | full.keys()):
        if kept.get(key) != full.get(key):
            held, want = kept.get(key), full.get(key)
            problems.append(f"fleet summary for {key[0]} {key[1]}: holds "
                            f"{_known(held)}, the records say {_known(want)}")
    models, full_models = store.vehicle_models(), store.vehicle_models(from_records=True)
    for vin in sorted(models.keys() | full_models.keys()):
        if models.get(vin) != full_models.get(vin):
            problems.append(f"fleet summary for {vin}: model {models.get(vin) or 'none'}, "
                            f"the records say {full_models.get(vin) or 'none'}")
    if len(problems) > limit:
        problems[limit:] = [f"... and {len(problems) - limit} more"]
    return problems


def _known(k: tuple[Any, ...] | None) -> str:
    if k is None:
        return "nothing"
    return f"{k[2]} ({k[5]} {k[3]} by {k[4]}, log {k[6]} seq {k[7]})"


@dataclass
class HistoryEntry:
    time: str
    workstation: str
    log: str
    record: Record
    verified: bool
    received_at: str  # the server's clock when it arrived (the record's time is the laptop's)

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {"time": r.time, "workstation": self.workstation, "signed_as": r.workstation,
                "technician": r.technician, "ecu": r.ecu, "action": r.action,
                "details": dict(r.details), "log": self.log, "seq": r.seq,
                "verified": self.verified, "received_at": self.received_at}


def vin_history(dsn: str, vin: str, trust_dir: Path | None = None) -> list[HistoryEntry]:
    """Every record about `vin` from every workstation, oldest first; `verified` says whether
    the log it belongs to verifies in full on the server."""
    with StoreSession(dsn) as store:
        rows = store.vin_records(vin)
    report = verify_store(dsn, trust_dir, only={row[1] for row in rows})
    good = {r.log for r in report.logs if r.ok}
    entries = []
    for workstation, log, body, received in rows:
        record = _parse(body, Record)
        if record is not None:
            entries.append(HistoryEntry(record.time, workstation, log, record, log in good,
                                        received))
    return entries


@dataclass(frozen=True)
class Deviation:
    vin: str
    model: str
    ecu: str
    version: str
    approved: tuple[str, ...]
    baseline: str  # integration level
    flashed_at: str  # when that software was last seen (the record's signed time)
    workstation: str
    source: str = "flash"  # "flash": a successful flash wrote it; "scan": a scan read it
    log: str = ""  # the record that says so: `fleet history VIN` shows it, `store verify`
    seq: int = 0   # says whether its log holds up

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "approved": list(self.approved)}


def _published_baselines(store: StoreSession, trust: TrustStore) -> dict[str, Baseline]:
    """The baseline in force per vehicle model, from the published ones that verify (each
    checked exactly as a local baseline file is; one that fails is ignored)."""
    now = utcnow()
    chosen: dict[str, Baseline] = {}
    with tempfile.TemporaryDirectory(prefix="workshop-baseline-") as tmp:
        for _kind, _name, _sha, content in store.published(["baseline"]):
            path = Path(tmp) / "b"
            path.write_bytes(content)
            try:
                baseline = load_baseline(path, trust)
            except WorkshopError:
                continue
            if baseline.effective_from() > now:
                continue
            held = chosen.get(baseline.vehicle_model)
            if held is None or baseline.effective_from() > held.effective_from():
                chosen[baseline.vehicle_model] = baseline
    return chosen


def deviations(dsn: str, trust: TrustStore) -> tuple[list[Deviation], list[str]]:
    """ECUs whose last known software (the newest of their last successful flash and their
    last scan identification in the store) is outside the approved baseline of their
    vehicle model; and the models with no verified baseline."""
    with StoreSession(dsn) as store:
        baselines = _published_baselines(store, trust)
        found, unknown = store.outside({
            model: {ecu: list(a.software_versions) for ecu, a in b.ecus.items()}
            for model, b in baselines.items()})
    out = []
    for (vin, ecu, version, time, workstation, source, log, seq), model in found:
        baseline = baselines[model]
        approved = baseline.ecus.get(ecu)
        out.append(Deviation(vin, model, ecu, version,
                             tuple(approved.software_versions if approved else ()),
                             baseline.integration_level, time, workstation, source, log, seq))
    return out, sorted(unknown)


@dataclass(frozen=True)
class DtcCount:
    ecu: str
    version: str
    dtc: str
    vehicles: int
    occurrences: int

    def to_json(self) -> dict[str, Any]:
        return vars(self)


def dtc_frequency(dsn: str) -> list[DtcCount]:
    """DTC frequency by ECU and software version across the group: the DTCs each flash found
    stored before it started, i.e. seen while the ECU ran its old version."""
    with StoreSession(dsn) as store:
        return [DtcCount(*row) for row in store.dtc_counts()]
