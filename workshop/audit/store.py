"""Append-only SQLite audit log: WAL, synchronous=FULL, record + signed checkpoint per commit,
and the signed head file (see head.py) replaced after each commit under an inter-process lock."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from workshop.audit.errors import AuditError, AuditTamperedError
from workshop.audit.head import lock_path, read_head, write_head
from workshop.audit.records import (
    GENESIS_HASH,
    Checkpoint,
    Record,
    canonical_json,
    checkpoint_signed_bytes,
    record_hash,
    record_signed_bytes,
    utc_now,
)
from workshop.audit.signing import (
    AuditSigner,
    certificate_key,
    chain_pem,
    fingerprint,
    signature_valid,
)
from workshop.audit.verification import ChainVerifier, HeadInput, VerifyResult, verify_chain
from workshop.foundation.paths import file_lock

FORMAT = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, time TEXT NOT NULL, workstation TEXT NOT NULL,
    technician TEXT NOT NULL, vin TEXT, ecu TEXT, action TEXT NOT NULL, details TEXT NOT NULL,
    prev_hash TEXT NOT NULL, signer TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1), log TEXT NOT NULL, seq INTEGER NOT NULL,
    hash TEXT NOT NULL, time TEXT NOT NULL, workstation TEXT NOT NULL, signer TEXT NOT NULL,
    signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (fingerprint TEXT PRIMARY KEY, chain TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
COLUMNS = ("seq, time, workstation, technician, vin, ecu, action, details, prev_hash, signer, "
           "hash, signature")


def _row_to_record(row: tuple[Any, ...]) -> Record:
    details_text = row[7]
    try:
        details = json.loads(details_text) if isinstance(details_text, str) else details_text
    except ValueError:
        details = details_text  # verification reports it as malformed
    return Record(seq=row[0], time=row[1], workstation=row[2], technician=row[3], vin=row[4],
                  ecu=row[5], action=row[6], details=details, prev_hash=row[8], signer=row[9],
                  hash=row[10], signature=row[11])


def _load_chain(text: object) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(str(text).encode())
    except ValueError:
        return []  # verification names the signer as unusable


@dataclass
class Snapshot:
    """Everything verification needs, read consistently (head first, then one transaction)."""

    log_id: str | None
    records: list[Record]
    checkpoint: Checkpoint | None
    certificates: dict[str, list[x509.Certificate]]
    head: HeadInput


class AuditLog:
    """Durable, hash-chained, signed audit log. Safe for several processes appending at once."""

    def __init__(self, path: Path, conn: sqlite3.Connection, signer: AuditSigner | None) -> None:
        self.path = path
        self._conn = conn
        self._signer = signer
        self._thread_lock = threading.RLock()

    @classmethod
    def open(cls, path: Path | str, signer: AuditSigner | None) -> AuditLog:
        """Open or create the log. `signer=None` opens it read-only for show/verify/export."""
        path = Path(path)
        if signer is None and not path.exists():
            raise AuditError(f"audit log not found: {path}",
                             hint="no vehicle-changing action has been recorded yet")
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = None
        try:
            if signer is None:
                conn = cls._connect(path)
                return cls(path, conn, None)
            # creation (journal mode, schema, genesis head) happens once, whoever comes first
            with file_lock(lock_path(path)):
                conn = cls._connect(path)
                log = cls(path, conn, signer)
                log._initialise(signer)
                return log
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise AuditError(f"cannot open audit log {path}: {exc}",
                             hint="check the file is a workshop audit log and is writable") from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        # Shared by the threads of one action (a flash writes from one thread per ECU);
        # `_thread_lock` serialises them, the file lock serialises processes.
        conn = sqlite3.connect(path, isolation_level=None, timeout=30.0,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _columns(self, table: str) -> list[str]:
        return [r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")]

    def _initialise(self, signer: AuditSigner) -> None:
        old = self._columns("records")
        if old and "signer" not in old:
            raise AuditError(
                f"{self.path} is an audit log of an earlier format (records without signer "
                "certificates)", hint="export it with the earlier workshop version, move the "
                "file aside, and let this version start a new log")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    self._conn.execute(stmt)
            fresh = self.log_id() is None
            if fresh:
                if self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]:
                    raise AuditError("audit log has records but no log id",
                                     hint="keep the file as evidence and start a new log")
                log = uuid.uuid4().hex
                self._conn.executemany("INSERT INTO meta VALUES (?, ?)",
                                       [("log", log), ("format", FORMAT)])
                self._remember(signer)
                genesis = self._write_checkpoint(signer, log, 0, GENESIS_HASH)
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        if fresh:
            write_head(self.path, genesis)
        elif read_head(self.path).head is None and not self._has_records():
            # a crash between creating the database and writing its first head: nothing lost
            cp = self.checkpoint()
            if cp is not None and cp.seq == 0:
                write_head(self.path, cp)

    def _has_records(self) -> bool:
        return self._conn.execute("SELECT 1 FROM records LIMIT 1").fetchone() is not None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def signer(self) -> AuditSigner | None:
        return self._signer

    def log_id(self) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key='log'").fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None

    def _remember(self, signer: AuditSigner) -> None:
        self._conn.execute("INSERT OR IGNORE INTO certificates VALUES (?, ?)",
                           (signer.fingerprint, chain_pem(signer.chain)))

    def _write_checkpoint(self, signer: AuditSigner, log: str, seq: int, hash_hex: str
                          ) -> Checkpoint:
        now = utc_now()
        sig = signer.sign(checkpoint_signed_bytes(log, seq, hash_hex, now, signer.workstation,
                                                  signer.fingerprint))
        cp = Checkpoint(log, seq, hash_hex, now, signer.workstation, signer.fingerprint, sig)
        self._conn.execute("INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                           (log, seq, hash_hex, now, signer.workstation, signer.fingerprint, sig))
        return cp

    def append(self, action: str, *, vin: str | None, ecu: str | None, technician: str,
               details: Mapping[str, Any] | None = None) -> Record:
        """Append one record and move the signed checkpoint, in one durable transaction, then
        move the signed head file.

        When this returns the record is on disk (fsync'd) and survives a crash.
        """
        signer = self._signer
        if signer is None:
            raise AuditError("audit log opened read-only", hint="open it with a signer to append")
        try:
            details_text = canonical_json(dict(details or {}))
        except (TypeError, ValueError) as exc:
            raise AuditError(f"audit details are not JSON-serialisable: {exc}") from exc
        # the lock orders commit + head write, so a slower writer never puts an older head back
        with self._thread_lock, file_lock(lock_path(self.path)):
            try:
                record, head = self._append_locked(signer, action, vin, ecu, technician,
                                                   details_text)
            except sqlite3.Error as exc:
                raise AuditError(f"cannot write audit record: {exc}", hint="the action must "
                                 "not proceed without an audit record") from exc
            write_head(self.path, head)
        return record

    def _append_locked(self, signer: AuditSigner, action: str, vin: str | None,
                       ecu: str | None, technician: str, details_text: str
                       ) -> tuple[Record, Checkpoint]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            row = self._conn.execute(
                "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS_HASH)
            log = self._check_head(seq - 1, prev)
            self._remember(signer)
            content = {"seq": seq, "time": utc_now(), "workstation": signer.workstation,
                       "technician": technician, "vin": vin, "ecu": ecu, "action": action,
                       "details": json.loads(details_text), "prev_hash": prev,
                       "signer": signer.fingerprint}
            digest = record_hash(content)
            sig = signer.sign(record_signed_bytes(digest))
            record = Record(**content, hash=digest, signature=sig)
            self._conn.execute(
                f"INSERT INTO records ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (seq, record.time, record.workstation, technician, vin, ecu, action,
                 details_text, prev, signer.fingerprint, digest, sig))
            head = self._write_checkpoint(signer, log, seq, digest)
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return record, head

    def _check_head(self, last_seq: int, last_hash: str) -> str:
        """Refuse to append (and re-sign the head) over a truncated or rolled-back log: that
        would overwrite the evidence. Returns the log id."""
        log = self.log_id()
        cp = self.checkpoint()
        chain = self._chain(cp.signer) if cp is not None else []
        if log is None or cp is None or not chain or not signature_valid(
                certificate_key(chain[0]), cp.signature, cp.signed_bytes()):
            raise AuditTamperedError(last_seq + 1, "signed checkpoint missing or invalid; "
                                     "refusing to append over a tampered log")
        hint = (f"run `workshop audit verify`; keep {self.path.name} and its .head.json as "
                "evidence and move them aside: the next action starts a new log")
        if (cp.seq, cp.hash) != (last_seq, last_hash):
            raise AuditTamperedError(
                min(cp.seq, last_seq) + 1,
                f"last record (seq {last_seq}) does not match the signed checkpoint "
                f"(seq {cp.seq}); refusing to append over a tampered log", hint=hint)
        head = read_head(self.path).head
        if head is None or head.log != log or not isinstance(head.seq, int):
            raise AuditTamperedError(last_seq + 1, "signed head file missing or not this "
                                     "log's; refusing to append over a possible rollback",
                                     hint=hint)
        if head.seq > last_seq:
            raise AuditTamperedError(last_seq + 1, (
                f"{head.seq - last_seq} committed record(s) missing after seq {last_seq}: the "
                "database was rolled back or its WAL deleted; refusing to append"), hint=hint)
        return log

    def records(self) -> Iterator[Record]:
        for row in self._conn.execute(f"SELECT {COLUMNS} FROM records ORDER BY seq"):
            yield _row_to_record(row)

    def last(self, n: int) -> list[Record]:
        try:
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM records ORDER BY seq DESC LIMIT ?", (n,)).fetchall()
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read audit log {self.path}: {exc}") from exc
        return [_row_to_record(r) for r in reversed(rows)]

    def _chain(self, fp: str) -> list[x509.Certificate]:
        row = self._conn.execute("SELECT chain FROM certificates WHERE fingerprint=?",
                                 (fp,)).fetchone()
        chain = _load_chain(row[0]) if row else []
        return chain if chain and fingerprint(chain[0]) == fp else []

    def certificates(self) -> dict[str, list[x509.Certificate]]:
        """Signer certificate chains by fingerprint (leaf first)."""
        try:
            rows = self._conn.execute("SELECT fingerprint, chain FROM certificates").fetchall()
        except sqlite3.Error:
            return {}
        return {str(fp): _load_chain(pem) for fp, pem in rows}

    def checkpoint(self) -> Checkpoint | None:
        try:
            row = self._conn.execute(
                "SELECT log, seq, hash, time, workstation, signer, signature FROM checkpoint "
                "WHERE id=1").fetchone()
        except sqlite3.Error:
            return None
        return Checkpoint(*row) if row else None

    def snapshot(self) -> Snapshot:
        """A consistent view under concurrent appends: the head file is read first, since it
        is only ever written after its commit (so the database is never behind it)."""
        head = read_head(self.path)
        try:
            self._conn.execute("BEGIN")
            try:
                return Snapshot(self.log_id(), list(self.records()), self.checkpoint(),
                                self.certificates(), head)
            finally:
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read audit log {self.path}: {exc}",
                             hint="check the file is a workshop audit log") from exc

    def check(self, verify_chain_fn: ChainVerifier | None = None, *,
              pinned: Sequence[x509.Certificate] | None = None,
              require_installation_head: bool = False) -> VerifyResult:
        """Verify the whole log; returns every problem found (see VerifyResult.problems)."""
        snap = self.snapshot()
        if snap.log_id is None:
            raise AuditError(f"{self.path} is not a workshop audit log (no log id)",
                             hint="check the path; an earlier-format log needs the earlier "
                             "workshop version")
        return verify_chain(snap.records, snap.checkpoint, snap.certificates, verify_chain_fn,
                            log_id=snap.log_id, head=snap.head, pinned=pinned,
                            require_installation_head=require_installation_head)

    def verify(self, verify_chain_fn: ChainVerifier | None = None, *,
               pinned: Sequence[x509.Certificate] | None = None) -> VerifyResult:
        """Like check(), but raises AuditTamperedError(seq, reason) on the first problem."""
        result = self.check(verify_chain_fn, pinned=pinned)
        result.raise_if_failed()
        return result
