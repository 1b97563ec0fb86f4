"""Migration 4: the fleet summary, each ECU's last known software and each vehicle's model,
kept by the database itself as records arrive.

Whole-fleet deviation read and sorted every software-bearing record (seconds per million);
migration 4 keeps the answer itself, maintained by the database on each record's insert
(the client writes none of it; see README "Fleet summary"). Two levels, so each role gets
the same answer it got from the records: per (workstation, VIN, ECU) the newest record that
workstation pushed (read under the same row-level security as records), and per (VIN, ECU)
the newest of all (auditors only). "Newest" is the records' signed time, then workstation,
log and seq, all descending: exactly the order of the verifying query in store/session.py.
A record without a signed time does not count. The summary trusts what the records say
(a workstation that signs a time far ahead makes its answer the newest); each row names
the record (workstation, log, seq) so the answer can be checked with `store verify`.
"""

SUMMARY_SQL = r"""
CREATE TABLE workshop.software_by_workstation (
    workstation name NOT NULL, vin text NOT NULL, ecu text NOT NULL, version text NOT NULL,
    time text NOT NULL, log text NOT NULL, seq bigint NOT NULL, source text NOT NULL,
    received_at timestamptz NOT NULL, PRIMARY KEY (workstation, vin, ecu));
CREATE TABLE workshop.fleet_software (
    vin text NOT NULL, ecu text NOT NULL, version text NOT NULL, time text NOT NULL,
    workstation name NOT NULL, log text NOT NULL, seq bigint NOT NULL, source text NOT NULL,
    received_at timestamptz NOT NULL, PRIMARY KEY (vin, ecu));
CREATE TABLE workshop.model_by_workstation (
    workstation name NOT NULL, vin text NOT NULL, model text NOT NULL, time text NOT NULL,
    log text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (workstation, vin));
CREATE TABLE workshop.fleet_models (
    vin text PRIMARY KEY, model text NOT NULL, time text NOT NULL, workstation name NOT NULL,
    log text NOT NULL, seq bigint NOT NULL);

-- written only by this function, as the schema owner: nobody is granted INSERT, UPDATE or
-- DELETE on the summary tables
CREATE FUNCTION workshop.note_last_known() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF NEW.vin IS NULL OR NEW.time IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.software IS NOT NULL THEN
        INSERT INTO workshop.software_by_workstation AS k
            SELECT NEW.workstation, NEW.vin, e.key, e.value ->> 'software_version', NEW.time,
                   NEW.log, NEW.seq,
                   CASE NEW.action WHEN 'flash.ecu' THEN 'flash' ELSE 'scan' END,
                   NEW.received_at
            FROM jsonb_each(NEW.software) e
            WHERE jsonb_typeof(e.value) = 'object' AND e.value ->> 'software_version' IS NOT NULL
        ON CONFLICT (workstation, vin, ecu) DO UPDATE SET version = EXCLUDED.version,
            time = EXCLUDED.time, log = EXCLUDED.log, seq = EXCLUDED.seq,
            source = EXCLUDED.source, received_at = EXCLUDED.received_at
            WHERE (EXCLUDED.time, EXCLUDED.log, EXCLUDED.seq) > (k.time, k.log, k.seq);
        INSERT INTO workshop.fleet_software AS k
            SELECT NEW.vin, e.key, e.value ->> 'software_version', NEW.time, NEW.workstation,
                   NEW.log, NEW.seq,
                   CASE NEW.action WHEN 'flash.ecu' THEN 'flash' ELSE 'scan' END,
                   NEW.received_at
            FROM jsonb_each(NEW.software) e
            WHERE jsonb_typeof(e.value) = 'object' AND e.value ->> 'software_version' IS NOT NULL
        ON CONFLICT (vin, ecu) DO UPDATE SET version = EXCLUDED.version,
            time = EXCLUDED.time, workstation = EXCLUDED.workstation, log = EXCLUDED.log,
            seq = EXCLUDED.seq, source = EXCLUDED.source, received_at = EXCLUDED.received_at
            WHERE (EXCLUDED.time, EXCLUDED.workstation, EXCLUDED.log, EXCLUDED.seq)
                > (k.time, k.workstation, k.log, k.seq);
    END IF;
    IF NEW.model IS NOT NULL THEN
        INSERT INTO workshop.model_by_workstation AS k
            VALUES (NEW.workstation, NEW.vin, NEW.model, NEW.time, NEW.log, NEW.seq)
        ON CONFLICT (workstation, vin) DO UPDATE SET model = EXCLUDED.model,
            time = EXCLUDED.time, log = EXCLUDED.log, seq = EXCLUDED.seq
            WHERE (EXCLUDED.time, EXCLUDED.log, EXCLUDED.seq) > (k.time, k.log, k.seq);
        INSERT INTO workshop.fleet_models AS k
            VALUES (NEW.vin, NEW.model, NEW.time, NEW.workstation, NEW.log, NEW.seq)
        ON CONFLICT (vin) DO UPDATE SET model = EXCLUDED.model, time = EXCLUDED.time,
            workstation = EXCLUDED.workstation, log = EXCLUDED.log, seq = EXCLUDED.seq
            WHERE (EXCLUDED.time, EXCLUDED.workstation, EXCLUDED.log, EXCLUDED.seq)
                > (k.time, k.workstation, k.log, k.seq);
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION workshop.note_last_known() FROM PUBLIC;

-- no insert may slip between the backfill and the trigger
LOCK TABLE workshop.records IN SHARE ROW EXCLUSIVE MODE;
-- AFTER: generated columns are not yet computed when a BEFORE trigger runs
CREATE TRIGGER last_known AFTER INSERT ON workshop.records
    FOR EACH ROW EXECUTE FUNCTION workshop.note_last_known();

INSERT INTO workshop.software_by_workstation
    SELECT DISTINCT ON (r.workstation, r.vin, e.key) r.workstation, r.vin, e.key,
           e.value ->> 'software_version', r.time, r.log, r.seq,
           CASE r.action WHEN 'flash.ecu' THEN 'flash' ELSE 'scan' END, r.received_at
    FROM workshop.records r, jsonb_each(r.software) e
    WHERE r.software IS NOT NULL AND r.vin IS NOT NULL AND r.time IS NOT NULL
      AND jsonb_typeof(e.value) = 'object' AND e.value ->> 'software_version' IS NOT NULL
    ORDER BY r.workstation, r.vin, e.key, r.time DESC, r.log DESC, r.seq DESC;
INSERT INTO workshop.fleet_software
    SELECT DISTINCT ON (vin, ecu) vin, ecu, version, time, workstation, log, seq, source,
           received_at
    FROM workshop.software_by_workstation
    ORDER BY vin, ecu, time DESC, workstation DESC, log DESC, seq DESC;
INSERT INTO workshop.model_by_workstation
    SELECT DISTINCT ON (workstation, vin) workstation, vin, model, time, log, seq
    FROM workshop.records
    WHERE model IS NOT NULL AND vin IS NOT NULL AND time IS NOT NULL
    ORDER BY workstation, vin, time DESC, log DESC, seq DESC;
INSERT INTO workshop.fleet_models
    SELECT DISTINCT ON (vin) vin, model, time, workstation, log, seq
    FROM workshop.model_by_workstation
    ORDER BY vin, time DESC, workstation DESC, log DESC, seq DESC;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['software_by_workstation', 'fleet_software',
                             'model_by_workstation', 'fleet_models'] LOOP
        EXECUTE format('REVOKE ALL ON workshop.%I FROM PUBLIC', t);
        EXECUTE format('GRANT SELECT ON workshop.%I TO workshop_auditor', t);
        EXECUTE format('ALTER TABLE workshop.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY audit_read ON workshop.%I FOR SELECT '
                       'TO workshop_auditor USING (true)', t);
    END LOOP;
    -- a workstation reads only the summary of the records it may read: its own
    FOREACH t IN ARRAY ARRAY['software_by_workstation', 'model_by_workstation'] LOOP
        EXECUTE format('GRANT SELECT ON workshop.%I TO workshop_workstation', t);
        EXECUTE format('CREATE POLICY own_read ON workshop.%I FOR SELECT '
                       'TO workshop_workstation USING (workstation = session_user)', t);
    END LOOP;
END $$;
"""
