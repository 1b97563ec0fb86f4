"""Append-only SQLite audit log: WAL, synchronous=FULL, record + signed checkpoint per commit."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography import x509

from workshop.audit.errors import AuditError, AuditTamperedError
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
from workshop.audit.signing import AuditSigner, certificate_key, signature_valid
from workshop.audit.verification import ChainVerifier, VerifyResult, verify_chain

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, time TEXT NOT NULL, workstation TEXT NOT NULL,
    technician TEXT NOT NULL, vin TEXT, ecu TEXT, action TEXT NOT NULL, details TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,
    time TEXT NOT NULL, workstation TEXT NOT NULL, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
COLUMNS = ("seq, time, workstation, technician, vin, ecu, action, details, prev_hash, hash, "
           "signature")


def _row_to_record(row: tuple[Any, ...]) -> Record:
    details_text = row[7]
    try:
        details = json.loads(details_text) if isinstance(details_text, str) else details_text
    except ValueError:
        details = details_text  # verification reports it as malformed
    return Record(seq=row[0], time=row[1], workstation=row[2], technician=row[3], vin=row[4],
                  ecu=row[5], action=row[6], details=details, prev_hash=row[8], hash=row[9],
                  signature=row[10])


class AuditLog:
    """Durable, hash-chained, signed audit log. Safe for several processes appending at once."""

    def __init__(self, path: Path, conn: sqlite3.Connection, signer: AuditSigner | None) -> None:
        self.path = path
        self._conn = conn
        self._signer = signer

    @classmethod
    def open(cls, path: Path | str, signer: AuditSigner | None) -> AuditLog:
        """Open or create the log. `signer=None` opens it read-only for show/verify/export."""
        path = Path(path)
        if signer is None and not path.exists():
            raise AuditError(f"audit log not found: {path}",
                             hint="no vehicle-changing action has been recorded yet")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            log = cls(path, conn, signer)
            if signer is not None:
                log._initialise(signer)
        except sqlite3.Error as exc:
            raise AuditError(f"cannot open audit log {path}: {exc}",
                             hint="check the file is a workshop audit log and is writable") from exc
        return log

    def _initialise(self, signer: AuditSigner) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    self._conn.execute(stmt)
            if self._conn.execute("SELECT 1 FROM meta WHERE key='workstation'").fetchone() is None:
                if self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]:
                    raise AuditError("audit log has records but no workstation metadata")
                self._conn.execute("INSERT INTO meta VALUES ('workstation', ?)",
                                   (signer.workstation,))
                self._write_checkpoint(signer, 0, GENESIS_HASH)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_checkpoint(self, signer: AuditSigner, seq: int, hash_hex: str) -> None:
        now = utc_now()
        sig = signer.sign(checkpoint_signed_bytes(seq, hash_hex, now, signer.workstation))
        self._conn.execute("INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?, ?, ?, ?)",
                           (seq, hash_hex, now, signer.workstation, sig))

    def append(self, action: str, *, vin: str | None, ecu: str | None, technician: str,
               details: Mapping[str, Any] | None = None) -> Record:
        """Append one record and move the signed checkpoint, in one durable transaction.

        When this returns the record is on disk (fsync'd) and survives a crash.
        """
        signer = self._signer
        if signer is None:
            raise AuditError("audit log opened read-only", hint="open it with a signer to append")
        try:
            details_text = canonical_json(dict(details or {}))
        except (TypeError, ValueError) as exc:
            raise AuditError(f"audit details are not JSON-serialisable: {exc}") from exc
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS_HASH)
                self._check_head(signer, seq - 1, prev)
                content = {"seq": seq, "time": utc_now(), "workstation": signer.workstation,
                           "technician": technician, "vin": vin, "ecu": ecu, "action": action,
                           "details": json.loads(details_text), "prev_hash": prev}
                digest = record_hash(content)
                sig = signer.sign(record_signed_bytes(digest))
                record = Record(**content, hash=digest, signature=sig)
                self._conn.execute(
                    f"INSERT INTO records ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (seq, record.time, record.workstation, technician, vin, ecu, action,
                     details_text, prev, digest, sig))
                self._write_checkpoint(signer, seq, digest)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise AuditError(f"cannot write audit record: {exc}",
                             hint="the action must not proceed without an audit record") from exc
        return record

    def _check_head(self, signer: AuditSigner, last_seq: int, last_hash: str) -> None:
        """Refuse to append (and re-sign the head) over a truncated or rolled-back tail."""
        cp = self.checkpoint()
        if cp is None or not signature_valid(certificate_key(signer.certificate), cp.signature,
                                             cp.signed_bytes()):
            raise AuditTamperedError(last_seq + 1, "signed checkpoint missing or invalid; "
                                     "refusing to append over a tampered log")
        if (cp.seq, cp.hash) != (last_seq, last_hash):
            raise AuditTamperedError(
                min(cp.seq, last_seq) + 1,
                f"last record (seq {last_seq}) does not match the signed checkpoint "
                f"(seq {cp.seq}); refusing to append over a tampered log",
                hint="run `workshop audit verify`, keep this log as evidence and start a new one")

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

    def checkpoint(self) -> Checkpoint | None:
        try:
            row = self._conn.execute(
                "SELECT seq, hash, time, workstation, signature FROM checkpoint WHERE id=1"
            ).fetchone()
        except sqlite3.Error:
            return None
        return Checkpoint(*row) if row else None

    def snapshot(self) -> tuple[list[Record], Checkpoint | None]:
        """Records and checkpoint read in one transaction (consistent under concurrent appends)."""
        try:
            self._conn.execute("BEGIN")
            try:
                return list(self.records()), self.checkpoint()
            finally:
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read audit log {self.path}: {exc}") from exc

    def check(self, certificate: x509.Certificate,
              verify_chain_fn: ChainVerifier | None = None) -> VerifyResult:
        """Verify the whole log; returns every problem found (see VerifyResult.problems)."""
        records, checkpoint = self.snapshot()
        return verify_chain(records, checkpoint, certificate, verify_chain_fn)

    def verify(self, certificate: x509.Certificate,
               verify_chain_fn: ChainVerifier | None = None) -> VerifyResult:
        """Like check(), but raises AuditTamperedError(seq, reason) on the first problem."""
        result = self.check(certificate, verify_chain_fn)
        result.raise_if_failed()
        return result
