"""Sync, offline first: push this workstation's audit log and its signed head to the dealer
group's central store, and raise a tamper alarm when the store knows more of the log than
the log itself.

The local log stays the source of truth: sync only reads it (and appends an alarm record).
Each batch of records is one transaction keyed by (log, seq), so a retry, a killed sync or
two syncs at once never duplicate or lose anything; the head goes last, after the records it
vouches for. The store is the witness a log cannot be to itself: a log restored from an
older copy together with its older head verifies locally, but is shorter than what this
workstation already pushed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workshop.audit import AuditLog, AuditSigner, ChainVerifier, Record, default_log_path
from workshop.audit.errors import AuditError
from workshop.audit.records import STORE_ALARM_ACTION, canonical_json, utc_now
from workshop.audit.signing import chain_pem
from workshop.foundation.paths import atomic_write
from workshop.services.alarms import close_resolved, open_alarms
from workshop.services.identity import PassphraseSource, technician
from workshop.services.pull import PullResult
from workshop.store import dsn as store_dsn
from workshop.store.session import BATCH, StoreSession

STATE_FILE = "sync-state.json"
EVIDENCE_HINT = ("keep the log and its .head.json as evidence, report it to the store's "
                 "auditor, and move them aside: the next action starts a new log; "
                 "`workshop audit verify` fails on this log until an auditor resolves the "
                 "alarm (`workshop store resolve-alarm`) and a sync closes it")


@dataclass
class SyncResult:
    """What one sync did; `alarm` (in words) when the log and the store disagree."""

    store: str  # the DSN without its password
    log: str
    local_seq: int
    server_seq: int
    pushed: int
    head_seq: int
    time: str
    alarm: str | None = None
    unreachable: bool = False  # the last attempt found no server (state file only)
    pulled: list[str] = field(default_factory=list)  # baselines and packages brought in
    refused: list[str] = field(default_factory=list)  # published files that failed to verify
    resolved: list[str] = field(default_factory=list)  # alarms closed by this sync, in words
    held: str | None = None  # why this log is not pushed (it holds a resolved alarm)

    @property
    def waiting(self) -> int:
        return max(self.local_seq - self.server_seq, 0)

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "waiting": self.waiting}


def state_path(log_path: Path | None = None) -> Path:
    return (log_path or default_log_path()).with_name(STATE_FILE)


def last_state(log_path: Path | None = None) -> SyncResult | None:
    """The last sync's outcome (for `sync --status` and the app), None if never synced."""
    try:
        obj = json.loads(state_path(log_path).read_text(encoding="utf-8"))
        obj.pop("waiting", None)
        return SyncResult(**obj)
    except (OSError, ValueError, TypeError):
        return None


def sync_log(dsn: str, log_path: Path, alarm_signer: Callable[[], AuditSigner],
             verify_chain_fn: ChainVerifier | None = None) -> SyncResult:
    """Push what the store lacks of the log at `log_path`. Raises StoreUnavailableError when
    the server cannot be reached (nothing lost); returns a result with `alarm` set when the
    log was cut back or rewritten (the alarm is then in the log and on the server). A log
    holding an alarm is not pushed; the sync pulls the auditors' resolutions of its alarms
    (their signers checked with `verify_chain_fn`) and closes those that verify."""
    with AuditLog.open(log_path, None) as log:
        snap = log.snapshot()
    if snap.log_id is None:
        raise AuditError(f"{log_path} is not a workshop audit log (no log id)")
    records = snap.records
    local_seq = records[-1].seq if records else 0
    result = SyncResult(store_dsn.redact(dsn), snap.log_id, local_seq, 0, 0, 0, utc_now())
    if any(r.action == STORE_ALARM_ACTION for r in records):
        pending = open_alarms(records)
        if pending:
            with StoreSession(dsn) as store:
                result.resolved, result.refused = close_resolved(
                    store, snap.log_id, log_path, records, alarm_signer(), verify_chain_fn)
        if len(pending) > len(result.resolved):
            raised = min(pending.values(), key=lambda r: r.seq)
            result.alarm = (f"this log holds a tamper alarm (seq {raised.seq}: "
                            f"{raised.details.get('reason', '')}); it is not pushed again, and "
                            "`audit verify` fails until an auditor resolves the alarm "
                            "(`workshop store resolve-alarm`)")
        else:
            result.held = ("this log holds a resolved tamper alarm: it stays as evidence and "
                           "is not pushed; move it and its .head.json aside to start a new log")
        return _saved(result, log_path)
    with StoreSession(dsn) as store:
        if store.claim(snap.log_id) is None:
            return _alarm(store, result, log_path, alarm_signer, 0, None, None, (
                f"the store already holds log {snap.log_id[:16]} from another workstation: "
                "this log was copied from another machine, or another machine pushed a copy "
                "of it"))
        tail = store.tail(snap.log_id)
        result.server_seq, result.head_seq = tail.seq, tail.head_seq
        by_seq = {r.seq: r for r in records}
        reached = max(tail.seq, tail.head_seq)
        if reached > local_seq:
            return _alarm(store, result, log_path, alarm_signer, local_seq + 1,
                          by_seq[local_seq].hash if local_seq else None, tail.hash, (
                f"the central store already holds this log up to seq {reached}, but the log "
                f"ends at seq {local_seq}: the log was cut back (restored from an older copy "
                "with its older head)"))
        if tail.seq and by_seq.get(tail.seq) and by_seq[tail.seq].hash != tail.hash:
            return _alarm(store, result, log_path, alarm_signer, tail.seq,
                          by_seq[tail.seq].hash, tail.hash, (
                f"record seq {tail.seq} differs from the copy the central store received: "
                "the log was rewritten after it was pushed"))
        store.push_certificates({fp: chain_pem(chain) for fp, chain in snap.certificates.items()
                                 if chain})
        new = [r for r in records if r.seq > tail.seq]
        for start in range(0, len(new), BATCH):
            batch = new[start:start + BATCH]
            result.pushed += store.push_records(snap.log_id, [_body(r) for r in batch])
            # a row already there came from another sync of this log: it must be the same
            held = store.hashes(snap.log_id, [r.seq for r in batch])
            for r in batch:
                if held.get(r.seq) != r.hash:
                    return _alarm(store, result, log_path, alarm_signer, r.seq, r.hash,
                                  held.get(r.seq), (
                        f"record seq {r.seq} differs from the copy the central store holds: "
                        "two different logs claim the same record"))
            result.server_seq = batch[-1].seq
        head = snap.head.head
        if head is not None and head.log == snap.log_id and head.seq <= local_seq:
            store.push_head(canonical_json(head.to_json()))
            result.head_seq = max(result.head_seq, head.seq)
    return _saved(result, log_path)


def _body(record: Record) -> str:
    """The record as the store keeps it: exactly the signed fields, canonical JSON."""
    return canonical_json(record.to_json())


def _alarm(store: StoreSession, result: SyncResult, log_path: Path,
           alarm_signer: Callable[[], AuditSigner], seq: int, local_hash: str | None,
           server_hash: str | None, reason: str) -> SyncResult:
    """Say it on the server first (the log itself may be the thing being attacked), then in
    the local log, where it makes `audit verify` fail until the log is set aside."""
    result.alarm = reason
    store.raise_alarm(result.log, seq, reason, local_hash, server_hash)
    try:
        with AuditLog.open(log_path, alarm_signer()) as log:
            log.append(STORE_ALARM_ACTION, vin=None, ecu=None, technician=technician(),
                       details={"reason": reason, "seq": seq, "local_hash": local_hash,
                                "server_hash": server_hash, "store": result.store})
    except AuditError as exc:
        result.alarm = f"{reason} (the alarm could not be written to the log: {exc.message})"
    return _saved(result, log_path)


def _saved(result: SyncResult, log_path: Path) -> SyncResult:
    atomic_write(state_path(log_path), (json.dumps(result.to_json(), indent=2) + "\n").encode())
    return result


def configured_store(dsn: str | None = None) -> str:
    """The store to use: `dsn` if given, else the one in Settings; ConfigError if none."""
    from workshop.foundation.errors import ConfigError
    from workshop.foundation.settings import load_settings, settings_path

    value = dsn or load_settings().store
    if not value:
        raise ConfigError("no central store is configured",
                          hint="name it with `workshop settings set store 'host=... dbname=... "
                               f"user=...'` (kept in {settings_path()}), or pass --dsn")
    return value


def sync_now(dsn: str | None = None, ask: PassphraseSource | None = None) -> SyncResult:
    """Sync the local log with the configured store; an unreachable server is remembered in
    the sync state (the app shows it) and raised, with nothing lost. `ask`: where the key
    that signs an alarm record gets its passphrase (the app's, not the terminal's)."""
    from workshop.audit import load_installation, workstation_chain_verifier
    from workshop.services.audit_trail import audit_signer
    from workshop.store import StoreUnavailableError

    store = configured_store(dsn)
    log_path = default_log_path()
    if not log_path.exists():
        raise AuditError("there is no audit log on this workstation yet",
                         hint="nothing to sync: no vehicle-changing action was recorded")
    try:
        asking = {"ask": ask} if ask is not None else {}
        result = sync_log(store, log_path,
                          lambda: audit_signer(simulated=load_installation() is None, **asking),
                          workstation_chain_verifier(None))
        if result.alarm is None:
            pulled = pull_now(store)
            result.pulled, result.refused = pulled.pulled, result.refused + pulled.refused
            _saved(result, log_path)
        return result
    except StoreUnavailableError:
        before = last_state(log_path)
        with AuditLog.open(log_path, None) as log:
            last = log.last(1)
        local = last[0].seq if last else 0
        _saved(SyncResult(store_dsn.redact(store), log_id_of(log_path), local,
                          before.server_seq if before else 0, 0,
                          before.head_seq if before else 0, utc_now(),
                          alarm=before.alarm if before else None, unreachable=True), log_path)
        raise


def log_id_of(log_path: Path) -> str:
    with AuditLog.open(log_path, None) as log:
        return log.log_id() or ""


def pull_now(dsn: str) -> PullResult:
    """Pull published baselines, packages, CRLs and trust updates into this workstation's
    folders, each verified (with the trust store of a simulator action; a real vehicle's
    action verifies again, without the demo roots)."""
    from workshop.services.baseline_check import baseline_store, package_store
    from workshop.services.pull import pull
    from workshop.services.trust_policy import trust_store
    from workshop.transport.adapters import AdapterConfig
    from workshop.trust.location import pulled_trust_dir

    pulled = pulled_trust_dir()
    with StoreSession(dsn) as store:
        return pull(store, {"baseline": baseline_store(), "package": package_store(),
                            "crl": pulled, "trust": pulled}, trust_store(AdapterConfig()))


@dataclass(frozen=True)
class SyncStatus:
    """What the app shows: whether a store is configured, the last sync, and how many local
    records the store has not received yet (counted now, from the log)."""

    configured: bool
    last: SyncResult | None
    waiting: int

    def text(self) -> str:
        if not self.configured:
            return ""
        last = self.last
        if last is None:
            return f"Central store: not synced yet; {self.waiting} record(s) waiting"
        if last.alarm:
            return f"Central store: TAMPER ALARM: {last.alarm}"
        if last.held:
            return f"Central store: alarm resolved; {last.held}"
        when = last.time[:16].replace("T", " ")
        if last.unreachable:
            return (f"Central store: unreachable at {when} UTC; {self.waiting} record(s) "
                    "waiting, nothing lost")
        return f"Central store: last sync {when} UTC; {self.waiting} record(s) waiting"


def sync_status() -> SyncStatus:
    """Cheap (two small local reads, no network): for the app's status bar."""
    from workshop.foundation.settings import load_settings

    log_path = default_log_path()
    configured = bool(load_settings().store)
    last = last_state(log_path)
    local = 0
    if log_path.exists():
        try:
            with AuditLog.open(log_path, None) as log:
                records = log.last(1)
                same_log = last is None or last.log == (log.log_id() or "")
            local = records[0].seq if records else 0
            if not same_log:
                last = None  # the state of a log set aside
        except AuditError:
            local = 0
    held = last.server_seq if last else 0
    return SyncStatus(configured, last, max(local - held, 0))
