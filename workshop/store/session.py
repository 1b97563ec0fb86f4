"""A connection to the store with the requests a workstation, publisher or auditor makes.

Every statement is parameterised: record text, VINs and names travel as parameters, never as
SQL. Every driver failure becomes a StoreError (StoreUnavailableError when the server went
away) with the password scrubbed, so callers above never see psycopg.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from workshop.store.dsn import connect, database_error

T = TypeVar("T")
_ATTEMPTS = 3  # of a transaction the server rolled back (deadlock, serialization)
_ROLLED_BACK = {"40P01", "40001"}
BATCH = 500  # records per transaction: a kill mid-sync loses at most one uncommitted batch
# Each ECU's newest known software and each vehicle's model, computed from the records
# themselves (what the fleet summary of migration 4 keeps; `store verify` compares the two).
# Newest by the record's signed time, ties broken by workstation, log and seq (all
# descending); a record without a signed time does not count.
LAST_KNOWN_FROM_RECORDS = (
    "SELECT DISTINCT ON (r.vin, e.key) r.vin, e.key, e.value ->> 'software_version', r.time, "
    "r.workstation, CASE r.action WHEN 'flash.ecu' THEN 'flash' ELSE 'scan' END, r.log, r.seq "
    "FROM workshop.records r, jsonb_each(r.software) e "
    "WHERE r.software IS NOT NULL AND r.vin IS NOT NULL AND r.time IS NOT NULL "
    "AND jsonb_typeof(e.value) = 'object' AND e.value ->> 'software_version' IS NOT NULL "
    "ORDER BY r.vin, e.key, r.time DESC, r.workstation DESC, r.log DESC, r.seq DESC")
MODELS_FROM_RECORDS = (
    "SELECT DISTINCT ON (vin) vin, model FROM workshop.records "
    "WHERE model IS NOT NULL AND vin IS NOT NULL AND time IS NOT NULL "
    "ORDER BY vin, time DESC, workstation DESC, log DESC, seq DESC")
# The same answers from the summary: an auditor reads the fleet-wide table, a workstation
# its own rows (row-level security), as it reads only its own records.
_SUMMARY = {
    "fleet": ("SELECT vin, ecu, version, time, workstation, source, log, seq "
              "FROM workshop.fleet_software ORDER BY vin, ecu",
              "SELECT vin, model FROM workshop.fleet_models"),
    "own": ("SELECT vin, ecu, version, time, workstation, source, log, seq "
            "FROM workshop.software_by_workstation ORDER BY vin, ecu",
            "SELECT vin, model FROM workshop.model_by_workstation"),
    "records": (LAST_KNOWN_FROM_RECORDS, MODELS_FROM_RECORDS),  # a store before migration 4
}
_SUMMARY_READ = (
    "SELECT CASE WHEN to_regclass('workshop.fleet_software') IS NULL THEN 'records' "
    "WHEN has_table_privilege('workshop.fleet_software', 'SELECT') THEN 'fleet' "
    "ELSE 'own' END")
Known = tuple[str, str, str, str, str, str, str, int]


@dataclass(frozen=True)
class Tail:
    """What the server holds of one log: its last seq and that record's hash, and the highest
    signed head pushed (0 / None when nothing)."""

    seq: int
    hash: str | None
    head_seq: int


@dataclass(frozen=True)
class Alarm:
    workstation: str
    log: str
    seq: int
    reason: str
    raised_at: str
    id: int = 0


@dataclass(frozen=True)
class Resolution:
    """An auditor's resolution of alarm `alarm`, as stored: the signed text, its signature
    and the signer's chain (PEM); who recorded it and when are the server's word."""

    alarm: int
    body: str
    signature: str
    chain: str
    resolved_by: str
    resolved_at: str


class StoreSession:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: psycopg.Connection[Any] = connect(dsn)

    def __enter__(self) -> StoreSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):  # a connection the server already dropped
            self.conn.close()

    def _run(self, doing: str, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` in one transaction; driver errors become StoreErrors. A transaction the
        server rolled back to break a deadlock is run again: two workstations pushing records
        about the same vehicles update the same fleet summary rows (migration 4), in
        whatever order their batches hold them."""
        for attempt in range(_ATTEMPTS):
            try:
                with self.conn.transaction():
                    return work(self.conn)
            except psycopg.Error as exc:
                if exc.sqlstate not in _ROLLED_BACK or attempt == _ATTEMPTS - 1:
                    raise database_error(exc, doing, self.dsn) from exc
        raise AssertionError("unreachable")

    def role(self) -> str:
        row = self._run("identifying the role",
                        lambda c: c.execute("SELECT session_user").fetchone())
        return str(row[0]) if row else ""

    # -- workstation: push -------------------------------------------------------------
    def claim(self, log: str) -> str | None:
        """Claim `log` for this role (first push); returns the role that owns it, None when
        another role does (this role cannot see whose)."""
        def work(c: psycopg.Connection[Any]) -> str | None:
            c.execute("INSERT INTO workshop.logs (log) VALUES (%s) ON CONFLICT (log) DO NOTHING",
                      (log,))
            row = c.execute("SELECT workstation FROM workshop.logs WHERE log = %s",
                            (log,)).fetchone()
            return str(row[0]) if row else None
        return self._run("claiming the log", work)

    def tail(self, log: str) -> Tail:
        def work(c: psycopg.Connection[Any]) -> Tail:
            row = c.execute("SELECT seq, hash FROM workshop.records WHERE log = %s "
                            "ORDER BY seq DESC LIMIT 1", (log,)).fetchone()
            head = c.execute("SELECT coalesce(max(seq), 0) FROM workshop.heads WHERE log = %s",
                             (log,)).fetchone()
            return Tail(int(row[0]) if row else 0, str(row[1]) if row else None,
                        int(head[0]) if head else 0)
        return self._run("reading what the store holds", work)

    def hashes(self, log: str, seqs: Sequence[int]) -> dict[int, str]:
        return dict(self._run("reading record hashes", lambda c: c.execute(
            "SELECT seq, hash FROM workshop.records WHERE log = %s AND seq = ANY(%s)",
            (log, list(seqs))).fetchall()))

    def push_certificates(self, chains: Mapping[str, str]) -> None:
        def work(c: psycopg.Connection[Any]) -> None:
            with c.cursor() as cur:
                cur.executemany("INSERT INTO workshop.certificates (fingerprint, chain) "
                                "VALUES (%s, %s) ON CONFLICT (pushed_by, fingerprint) DO NOTHING",
                                list(chains.items()))
        self._run("storing signer certificates", work)

    def push_records(self, log: str, bodies: Sequence[str]) -> int:
        """Insert signed record texts; one already there (same workstation, log, seq) is left
        alone: the caller compares hashes. Returns how many were new."""
        def work(c: psycopg.Connection[Any]) -> int:
            with c.cursor() as cur:
                cur.executemany("INSERT INTO workshop.records (log, body) VALUES (%s, %s) "
                                "ON CONFLICT (log, seq) DO NOTHING",
                                [(log, b) for b in bodies])
                return max(cur.rowcount, 0)
        return self._run("storing audit records", work)

    def push_head(self, body: str) -> None:
        self._run("storing the signed head", lambda c: c.execute(
            "INSERT INTO workshop.heads (body) VALUES (%s) "
            "ON CONFLICT (log, seq) DO NOTHING", (body,)))

    def raise_alarm(self, log: str, seq: int, reason: str, local_hash: str | None,
                    server_hash: str | None) -> None:
        self._run("recording the tamper alarm", lambda c: c.execute(
            "INSERT INTO workshop.alarms (log, seq, reason, local_hash, server_hash) "
            "VALUES (%s, %s, %s, %s, %s)", (log, seq, reason, local_hash, server_hash)))

    # -- publisher: publish; workstation: pull ---------------------------------------
    def publish(self, kind: str, name: str, content: bytes) -> bool:
        """Publish signed material; False when the same content was already published."""
        def work(c: psycopg.Connection[Any]) -> bool:
            cur = c.execute("INSERT INTO workshop.published (kind, name, content) VALUES "
                            "(%s, %s, %s) ON CONFLICT (kind, name, sha256) DO NOTHING",
                            (kind, name, content))
            return cur.rowcount == 1
        return self._run("publishing", work)

    def published(self, kinds: Sequence[str]) -> list[tuple[str, str, str, bytes]]:
        """(kind, name, sha256, content) of the latest publication of each name."""
        return [(str(k), str(n), str(h), bytes(c)) for k, n, h, c in self._run(
            "reading published material", lambda c: c.execute(
                "SELECT DISTINCT ON (kind, name) kind, name, sha256, content "
                "FROM workshop.published WHERE kind = ANY(%s) ORDER BY kind, name, id DESC",
                (list(kinds),)).fetchall())]

    # -- auditor: read everything ------------------------------------------------------
    def logs(self) -> list[tuple[str, str]]:
        """(workstation, log) of every claimed log."""
        return [(str(w), str(g)) for w, g in self._run("listing logs", lambda c: c.execute(
            "SELECT workstation, log FROM workshop.logs ORDER BY workstation, claimed_at"
        ).fetchall())]

    def record_bodies(self, log: str) -> list[str]:
        return [str(r[0]) for r in self._run("reading records", lambda c: c.execute(
            "SELECT body FROM workshop.records WHERE log = %s ORDER BY seq", (log,)
        ).fetchall())]

    def head_bodies(self, log: str) -> list[str]:
        return [str(r[0]) for r in self._run("reading heads", lambda c: c.execute(
            "SELECT body FROM workshop.heads WHERE log = %s ORDER BY seq", (log,)).fetchall())]

    def certificates(self) -> dict[str, dict[str, str]]:
        """Signer chains by pushing role, then fingerprint."""
        chains: dict[str, dict[str, str]] = {}
        for who, fp, pem in self._run("reading certificates", lambda c: c.execute(
                "SELECT pushed_by, fingerprint, chain FROM workshop.certificates").fetchall()):
            chains.setdefault(str(who), {})[str(fp)] = str(pem)
        return chains

    def alarms(self) -> list[Alarm]:
        return [Alarm(str(w), str(g), int(s), str(r), t.isoformat(), int(i))
                for w, g, s, r, t, i in self._run("reading alarms", lambda c: c.execute(
                    "SELECT workstation, log, seq, reason, raised_at, id FROM workshop.alarms "
                    "ORDER BY id").fetchall())]

    def resolve(self, body: str, signature: str, chain: str) -> None:
        """Record an auditor's signed resolution (the database checks it names the alarm)."""
        self._run("recording the alarm resolution", lambda c: c.execute(
            "INSERT INTO workshop.resolutions (body, signature, chain) VALUES (%s, %s, %s)",
            (body, signature, chain)))

    def resolutions(self, log: str | None = None) -> list[Resolution]:
        """Resolutions this role may read (a workstation: its own alarms'), of `log` if
        given."""
        return [Resolution(int(a), str(b), str(s), str(c), str(w), t.isoformat())
                for a, b, s, c, w, t in self._run("reading alarm resolutions", lambda c: c.execute(
                    "SELECT alarm, body, signature, chain, resolved_by, resolved_at "
                    "FROM workshop.resolutions WHERE %s::text IS NULL OR log = %s ORDER BY id",
                    (log, log)).fetchall())]

    def vin_records(self, vin: str) -> list[tuple[str, str, str, str]]:
        """(workstation, log, body, received_at) of every record about `vin`, oldest first by
        the records' own (signed) time; received_at is the server's clock, beside it so a
        workstation's skewed clock shows."""
        return [(str(w), str(g), str(b), t.isoformat()) for w, g, b, t in self._run(
            "reading a vehicle's history", lambda c: c.execute(
                "SELECT workstation, log, body, received_at FROM workshop.records "
                "WHERE vin = %s ORDER BY time, workstation, log, seq", (vin,)).fetchall())]

    def _summary(self) -> tuple[str, str]:
        row = self._run("reading the schema", lambda c: c.execute(_SUMMARY_READ).fetchone())
        return _SUMMARY[str(row[0]) if row else "records"]

    def last_known(self, *, from_records: bool = False) -> list[Known]:
        """(vin, ecu, software version, time, workstation, source, log, seq) of each ECU's
        last known software by the records' signed time: the newest of its last successful
        flash ('flash') and its last scan identification ('scan'), from the summary (or,
        `from_records`, computed from every record: seconds per million)."""
        query = LAST_KNOWN_FROM_RECORDS if from_records else self._summary()[0]
        return [(str(v), str(e), str(s), str(t), str(w), str(k), str(g), int(q))
                for v, e, s, t, w, k, g, q in self._run(
                    "reading the last known software of each ECU",
                    lambda c: c.execute(query).fetchall())]

    def vehicle_models(self, *, from_records: bool = False) -> dict[str, str]:
        """VIN -> vehicle model named by its newest flash or scan."""
        query = MODELS_FROM_RECORDS if from_records else self._summary()[1]
        return {str(v): str(m) for v, m in self._run(
            "reading vehicle models", lambda c: c.execute(query).fetchall())}

    def outside(self, approved: Mapping[str, Mapping[str, Sequence[str]]], *,
                from_records: bool = False) -> tuple[list[tuple[Known, str]], set[str]]:
        """The ECUs whose last known software the `approved` versions (model -> ECU ->
        versions) do not include, each with its vehicle's model; and the models (or
        "(model of VIN unknown)") with no entry in `approved`. Compared in the database, so
        only the answer travels (the whole fleet's 70,000 ECUs would take longer to read
        than to compare)."""
        software, models = (LAST_KNOWN_FROM_RECORDS, MODELS_FROM_RECORDS) if from_records \
            else self._summary()
        with_ = (f"WITH k (vin, ecu, version, time, workstation, source, log, seq) AS "
                 f"({software}), m (vin, model) AS ({models}) ")  # shipped SQL, no input
        base = with_ + "SELECT k.*, m.model FROM k LEFT JOIN m ON m.vin = k.vin "
        wanted = Jsonb({str(m): {str(e): [str(v) for v in vs] for e, vs in ecus.items()}
                        for m, ecus in approved.items()})

        def work(c: psycopg.Connection[Any]) -> tuple[list[tuple[Known, str]], set[str]]:
            found = [((str(v), str(e), str(s), str(t), str(w), str(k), str(g), int(q)), str(m))
                     for v, e, s, t, w, k, g, q, m in c.execute(
                         (base + "WHERE m.model <> '' AND %(a)s::jsonb ? m.model AND NOT "
                          "coalesce(%(a)s::jsonb -> m.model -> k.ecu, '[]') ? k.version "
                          "ORDER BY k.vin, k.ecu").encode(), {"a": wanted}).fetchall()]
            unknown = {str(m) if m else f"(model of {v} unknown)" for m, v in c.execute(
                (with_ + "SELECT DISTINCT m.model, CASE "
                 "WHEN coalesce(m.model, '') = '' THEN k.vin END FROM k LEFT JOIN m "
                 "ON m.vin = k.vin WHERE coalesce(m.model, '') = '' "
                 "OR NOT %(a)s::jsonb ? m.model").encode(), {"a": wanted}).fetchall()}
            return found, unknown
        return self._run("comparing the fleet's software with the baselines", work)

    def dtc_counts(self) -> list[tuple[str, str, str, int, int]]:
        """(ecu, software version, DTC, vehicles, occurrences) of the DTCs each flash found
        stored before it started (so: seen while the ECU ran that version), most vehicles
        first."""
        return [(str(e), str(v), str(d), int(n), int(k)) for e, v, d, n, k in self._run(
            "counting DTCs", lambda c: c.execute(
                "SELECT e.key, coalesce(r.body::jsonb #>> "
                "ARRAY['details', 'request', 'ecus', e.key, 'from'], '?'), d.code, "
                "count(DISTINCT r.vin), count(*) "
                "FROM workshop.records r, "
                "jsonb_each(CASE jsonb_typeof(r.body::jsonb #> '{details,request,dtcs_before}')"
                " WHEN 'object' THEN r.body::jsonb #> '{details,request,dtcs_before}' "
                "ELSE '{}'::jsonb END) e, "
                "jsonb_array_elements_text(CASE jsonb_typeof(e.value) WHEN 'array' "
                "THEN e.value ELSE '[]'::jsonb END) AS d(code) "
                "WHERE r.action = 'flash' AND r.body::jsonb #>> '{details,phase}' = 'intent' "
                "GROUP BY 1, 2, 3 ORDER BY 4 DESC, 5 DESC, 1, 2, 3").fetchall())]
