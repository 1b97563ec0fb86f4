"""Versioned schema migrations, shipped in the package (no SQL files to lose in a bundle).

Each migration runs once, in its own transaction, under an advisory lock, and is recorded in
workshop.schema_migrations; `init` creates a store at the latest version, `upgrade` applies
what is missing. Run by the store's owner (a role with CREATEROLE that owns the database),
never by a workstation.

The design, in the database's own terms (the client is not trusted to keep any of it):
- records and heads are stored as the exact signed JSON text; every column a query uses is
  GENERATED from that text, so a workstation cannot label a row differently from what it
  signed;
- a workstation logs in as its own role (named as its workstation id, the CN of its
  certificate, so PostgreSQL's client-certificate authentication maps one to the other);
  each local log (random id) is claimed by the role that first pushes it, and row-level
  security keyed to `session_user` lets a workstation insert and read only its own logs'
  records and heads;
- nobody is granted UPDATE or DELETE, and triggers refuse them even to the owner by mistake;
- who pushed and when the server received it come from the server (column defaults that the
  client is not allowed to set), not from the workstation's clock.
"""

from __future__ import annotations

from typing import Any

import psycopg

from workshop.store.dsn import connect, database_error
from workshop.store.errors import StoreError
from workshop.store.fleet_summary import SUMMARY_SQL as _V4

WORKSTATION_ROLE = "workshop_workstation"
PUBLISHER_ROLE = "workshop_publisher"
AUDITOR_ROLE = "workshop_auditor"
_LOCK = 0x776F726B  # advisory lock id: one migrator at a time

_V1 = r"""
CREATE SCHEMA workshop;
REVOKE ALL ON SCHEMA workshop FROM PUBLIC;
CREATE TABLE workshop.schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(), applied_by name NOT NULL DEFAULT session_user);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'workshop_workstation') THEN
        CREATE ROLE workshop_workstation NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'workshop_publisher') THEN
        CREATE ROLE workshop_publisher NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'workshop_auditor') THEN
        CREATE ROLE workshop_auditor NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA workshop TO workshop_workstation, workshop_publisher, workshop_auditor;

CREATE FUNCTION workshop.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'workshop store: % on %.% refused: the store is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

-- Signer certificate chains (PEM, leaf first), each workstation's own copy (so no one can
-- plant a chain under another's fingerprint first); the fingerprint must be the SHA-256 of
-- the leaf's DER, checked here, and the chain is verified again when read back.
CREATE TABLE workshop.certificates (
    fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    chain text NOT NULL CHECK (length(chain) < 65536),
    pushed_by name NOT NULL DEFAULT session_user,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pushed_by, fingerprint),
    CHECK (fingerprint = encode(sha256(decode(substring(chain FROM
        '-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=[:space:]]+)-----END CERTIFICATE-----'),
        'base64')), 'hex')));

-- Each local log (its random id) belongs to the workstation that first pushed it.
CREATE TABLE workshop.logs (
    log text PRIMARY KEY CHECK (log ~ '^[0-9a-f]{32}$'),
    workstation name NOT NULL DEFAULT session_user,
    claimed_at timestamptz NOT NULL DEFAULT now());

-- Audit records exactly as signed (canonical JSON); the columns are derived from that text,
-- except whose they are and when they arrived, which are the server's word.
CREATE TABLE workshop.records (
    log text NOT NULL REFERENCES workshop.logs (log),
    body text NOT NULL CHECK (length(body) < 1048576),
    seq bigint GENERATED ALWAYS AS ((body::jsonb ->> 'seq')::bigint) STORED NOT NULL,
    signed_as text GENERATED ALWAYS AS (body::jsonb ->> 'workstation') STORED,
    time text GENERATED ALWAYS AS (body::jsonb ->> 'time') STORED,
    technician text GENERATED ALWAYS AS (body::jsonb ->> 'technician') STORED,
    vin text GENERATED ALWAYS AS (body::jsonb ->> 'vin') STORED,
    ecu text GENERATED ALWAYS AS (body::jsonb ->> 'ecu') STORED,
    action text GENERATED ALWAYS AS (body::jsonb ->> 'action') STORED,
    hash text GENERATED ALWAYS AS (body::jsonb ->> 'hash') STORED NOT NULL,
    signer text GENERATED ALWAYS AS (body::jsonb ->> 'signer') STORED,
    workstation name NOT NULL DEFAULT session_user,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log, seq),
    CHECK (seq >= 1));
CREATE INDEX records_vin ON workshop.records (vin, time) WHERE vin IS NOT NULL;

-- Signed heads (checkpoints) as pushed: the server's witness of how far each log reached.
CREATE TABLE workshop.heads (
    body text NOT NULL CHECK (length(body) < 65536),
    log text GENERATED ALWAYS AS (body::jsonb ->> 'log') STORED NOT NULL
        REFERENCES workshop.logs (log),
    seq bigint GENERATED ALWAYS AS ((body::jsonb ->> 'seq')::bigint) STORED NOT NULL,
    hash text GENERATED ALWAYS AS (body::jsonb ->> 'hash') STORED NOT NULL,
    workstation name NOT NULL DEFAULT session_user,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log, seq));

-- Tamper alarms raised by a workstation's sync; who raised it is the server's word.
CREATE TABLE workshop.alarms (
    id bigserial PRIMARY KEY,
    workstation name NOT NULL DEFAULT session_user,
    log text NOT NULL, seq bigint NOT NULL, reason text NOT NULL CHECK (length(reason) < 4096),
    local_hash text, server_hash text,
    raised_at timestamptz NOT NULL DEFAULT now());

-- Signed baselines, packages, CRLs and trust updates, published for workstations to pull;
-- each is verified by the workstation exactly as a local file is, before use.
CREATE TABLE workshop.published (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('baseline', 'package', 'crl', 'trust')),
    name text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    content bytea NOT NULL,
    sha256 text GENERATED ALWAYS AS (encode(sha256(content), 'hex')) STORED,
    published_by name NOT NULL DEFAULT session_user,
    published_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, name, sha256));

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['certificates', 'logs', 'records', 'heads', 'alarms',
                             'published'] LOOP
        EXECUTE format('REVOKE ALL ON workshop.%I FROM PUBLIC', t);
        EXECUTE format('CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON workshop.%I '
                       'FOR EACH ROW EXECUTE FUNCTION workshop.refuse_change()', t);
        EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON workshop.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION workshop.refuse_change()', t);
        EXECUTE format('GRANT SELECT ON workshop.%I TO workshop_auditor', t);
    END LOOP;
END $$;

-- workstation: insert its own certificates, records, heads, alarms (only the columns that
-- carry what it signed); read its own rows back; read what publishers published.
GRANT INSERT (fingerprint, chain), SELECT ON workshop.certificates TO workshop_workstation;
GRANT INSERT (log), SELECT ON workshop.logs TO workshop_workstation;
GRANT INSERT (log, body), SELECT ON workshop.records TO workshop_workstation;
GRANT INSERT (body), SELECT ON workshop.heads TO workshop_workstation;
GRANT INSERT (log, seq, reason, local_hash, server_hash), SELECT ON workshop.alarms
    TO workshop_workstation;
GRANT USAGE ON SEQUENCE workshop.alarms_id_seq TO workshop_workstation;
GRANT SELECT ON workshop.published TO workshop_workstation;
-- publisher: publish; read what is published.
GRANT INSERT (kind, name, content), SELECT ON workshop.published TO workshop_publisher;
GRANT USAGE ON SEQUENCE workshop.published_id_seq TO workshop_publisher;

-- Row-level security keyed to session_user (SET ROLE cannot change it): a workstation
-- inserts and reads only its own logs, records, heads and alarms.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['logs', 'records', 'heads', 'alarms'] LOOP
        EXECUTE format('ALTER TABLE workshop.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_read ON workshop.%I FOR SELECT '
                       'TO workshop_workstation USING (workstation = session_user)', t);
        EXECUTE format('CREATE POLICY audit_read ON workshop.%I FOR SELECT '
                       'TO workshop_auditor USING (true)', t);
    END LOOP;
END $$;
CREATE POLICY own_insert ON workshop.logs FOR INSERT TO workshop_workstation
    WITH CHECK (workstation = session_user);
CREATE POLICY own_insert ON workshop.alarms FOR INSERT TO workshop_workstation
    WITH CHECK (workstation = session_user);
-- records and heads go only into a log this workstation claimed
CREATE POLICY own_insert ON workshop.records FOR INSERT TO workshop_workstation
    WITH CHECK (workstation = session_user AND EXISTS (
        SELECT 1 FROM workshop.logs l WHERE l.log = records.log
        AND l.workstation = session_user));
CREATE POLICY own_insert ON workshop.heads FOR INSERT TO workshop_workstation
    WITH CHECK (workstation = session_user AND EXISTS (
        SELECT 1 FROM workshop.logs l WHERE l.log = heads.log
        AND l.workstation = session_user));
"""

_V2 = r"""
-- An auditor's signed resolution of a tamper alarm. The signed text names the alarm (id,
-- workstation, log, seq); the columns are generated from it and must match the alarm they
-- close; who recorded it and when are the server's word. The workstation and `store verify`
-- count the first that verifies (one that does not cannot block a later, genuine one).
CREATE TABLE workshop.resolutions (
    id bigserial PRIMARY KEY,
    body text NOT NULL CHECK (length(body) < 16384),
    signature text NOT NULL CHECK (signature ~ '^[0-9a-f]+$' AND length(signature) <= 512),
    chain text NOT NULL CHECK (length(chain) < 65536),
    alarm bigint GENERATED ALWAYS AS ((body::jsonb ->> 'alarm')::bigint) STORED NOT NULL
        REFERENCES workshop.alarms (id),
    workstation name GENERATED ALWAYS AS ((body::jsonb ->> 'workstation')::name) STORED
        NOT NULL,
    log text GENERATED ALWAYS AS (body::jsonb ->> 'log') STORED NOT NULL,
    seq bigint GENERATED ALWAYS AS ((body::jsonb ->> 'seq')::bigint) STORED NOT NULL,
    resolved_by name NOT NULL DEFAULT session_user,
    resolved_at timestamptz NOT NULL DEFAULT now());

CREATE FUNCTION workshop.resolution_matches_alarm() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM workshop.alarms a WHERE a.id = NEW.alarm
                   AND a.workstation = NEW.workstation AND a.log = NEW.log
                   AND a.seq = NEW.seq) THEN
        RAISE EXCEPTION 'workshop store: the resolution does not name alarm % as raised',
            NEW.alarm USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- AFTER: generated columns are not yet computed when a BEFORE trigger runs
CREATE TRIGGER matches_alarm AFTER INSERT ON workshop.resolutions
    FOR EACH ROW EXECUTE FUNCTION workshop.resolution_matches_alarm();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON workshop.resolutions
    FOR EACH ROW EXECUTE FUNCTION workshop.refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON workshop.resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION workshop.refuse_change();
REVOKE ALL ON workshop.resolutions FROM PUBLIC;
GRANT SELECT, INSERT (body, signature, chain) ON workshop.resolutions TO workshop_auditor;
GRANT USAGE ON SEQUENCE workshop.resolutions_id_seq TO workshop_auditor;
GRANT SELECT ON workshop.resolutions TO workshop_workstation;
ALTER TABLE workshop.resolutions ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_read ON workshop.resolutions FOR SELECT TO workshop_workstation
    USING (workstation = session_user);
CREATE POLICY audit_read ON workshop.resolutions FOR SELECT TO workshop_auditor USING (true);
CREATE POLICY audit_insert ON workshop.resolutions FOR INSERT TO workshop_auditor
    WITH CHECK (resolved_by = session_user);
"""

# The fleet answers read each ECU's last known software and each vehicle's model. Parsing
# the record text for that on every query costs seconds per million records, so migration 3
# derives both once, when a record arrives, as generated columns (still from the signed text
# alone). No index: the whole-fleet question reads every such row, and the planner rightly
# prefers a sequential scan (benchmarks/fleet_query.py). Applying it rewrites the records
# table once (about a minute per 200,000 records on the benchmark machine: run it when the
# workshops are closed).
_V3 = r"""
-- ECU -> {"software_version": ...} that the record tells: a successful flash of one ECU, or
-- a scan's identification of several
ALTER TABLE workshop.records ADD COLUMN software jsonb GENERATED ALWAYS AS (CASE
    WHEN body::jsonb ->> 'action' = 'flash.ecu'
         AND body::jsonb #>> '{details,outcome}' = 'success'
         AND body::jsonb #>> '{details,result,version_after}' IS NOT NULL
         AND body::jsonb ->> 'ecu' IS NOT NULL
    -- jsonb_set and jsonb_object are immutable (jsonb_build_object is not)
    THEN jsonb_set('{}'::jsonb, ARRAY[body::jsonb ->> 'ecu'], jsonb_object(ARRAY[
         'software_version', body::jsonb #>> '{details,result,version_after}']))
    WHEN body::jsonb ->> 'action' = 'scan.identification'
         AND jsonb_typeof(body::jsonb #> '{details,ecus}') = 'object'
    THEN body::jsonb #> '{details,ecus}' END) STORED;
-- the vehicle model a flash intent or a scan names
ALTER TABLE workshop.records ADD COLUMN model text GENERATED ALWAYS AS (CASE
    WHEN body::jsonb ->> 'action' = 'flash' AND body::jsonb #>> '{details,phase}' = 'intent'
    THEN body::jsonb #>> '{details,request,vehicle}'
    WHEN body::jsonb ->> 'action' = 'scan.identification'
    THEN body::jsonb #>> '{details,vehicle}' END) STORED;
"""

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "logs, records, heads, certificates, alarms, published; roles and row-level security",
     _V1),
    (2, "alarm resolutions: signed by an auditor, append-only, read by the alarm's workstation",
     _V2),
    (3, "fleet answers: software and model derived once from each record", _V3),
    (4, "fleet summary: last known software and model per VIN, kept by the database", _V4),
)
LATEST = MIGRATIONS[-1][0]


def _version(conn: psycopg.Connection[Any]) -> int | None:
    """The store's schema version; None when the database holds no workshop store."""
    row = conn.execute("SELECT to_regclass('workshop.schema_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    row = conn.execute("SELECT max(version) FROM workshop.schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def store_version(dsn: str) -> int | None:
    with connect(dsn, autocommit=True) as conn:
        try:
            return _version(conn)
        except psycopg.Error as exc:
            raise database_error(exc, "reading the schema version", dsn) from exc


def _migrate(dsn: str, *, fresh: bool) -> tuple[int, list[int]]:
    """Apply the missing migrations; returns (version before, versions applied)."""
    with connect(dsn, autocommit=True) as conn:
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK,))
            before = _version(conn)
            if fresh and before is not None:
                raise StoreError(f"this database already holds a workshop store (schema "
                                 f"version {before})",
                                 hint="use `workshop store upgrade` to bring it up to date")
            if not fresh and before is None:
                raise StoreError("this database holds no workshop store",
                                 hint="create it with `workshop store init --dsn ...`")
            current = before or 0
            if current > LATEST:
                raise StoreError(f"the store's schema (version {current}) is newer than this "
                                 f"workshop knows (version {LATEST})",
                                 hint="upgrade workshop on this machine")
            applied = []
            for version, name, text in MIGRATIONS:
                if version <= current:
                    continue
                with conn.transaction():
                    conn.execute(text.encode())  # shipped SQL, no input in it
                    conn.execute("INSERT INTO workshop.schema_migrations (version, name) "
                                 "VALUES (%s, %s)", (version, name))
                applied.append(version)
            return current, applied
        except psycopg.Error as exc:
            raise database_error(exc, "migrating the schema", dsn) from exc


def init_store(dsn: str) -> list[int]:
    return _migrate(dsn, fresh=True)[1]


def upgrade_store(dsn: str) -> tuple[int, list[int]]:
    return _migrate(dsn, fresh=False)
