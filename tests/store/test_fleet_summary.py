"""The fleet summary (migration 4) gives exactly the answer computed from every record, for
an auditor and for each workstation, however the history arrived: several workstations,
flashes and scans, seqs pushed out of order, records with the same signed time, some pushed
before the migration (backfilled) and some after (the trigger)."""

from __future__ import annotations

import json
import random
import threading

import psycopg
import pytest

from tests.store.helpers import PASSWORD, role_dsn
from workshop.services import fleet
from workshop.store import migrations
from workshop.store.admin import enroll
from workshop.store.errors import StoreError
from workshop.store.session import StoreSession

VINS = [f"VINSUM{n:011d}" for n in range(6)]
ECUS = ("ENGINE", "ABS", "BODY")
TIMES = [f"2026-03-0{d}T10:00:00.000000Z" for d in range(1, 5)]  # few: many ties


def _body(rng: random.Random, who: str, seq: int) -> str:
    vin, ecu, version = rng.choice(VINS), rng.choice(ECUS), rng.choice(["1.0", "1.1", "2.0"])
    kind = rng.random()
    if kind < 0.3:
        action, ecu_field, details = "flash.ecu", ecu, {
            "phase": "outcome", "outcome": rng.choice(["success", "success", "failure"]),
            "result": {"version_before": "0.9", "version_after": version}}
    elif kind < 0.5:
        action, ecu_field, details = "flash", "*", {
            "phase": "intent", "request": {"vehicle": rng.choice(["car-a", "car-b"]),
                                           "ecus": {ecu: {"from": "0.9", "to": version}}}}
    elif kind < 0.8:
        ecus = {e: {"software_version": rng.choice(["1.0", "1.1", "2.0"])}
                for e in rng.sample(ECUS, 2)}
        ecus["GATEWAY"] = "not an object"  # ignored by both
        action, ecu_field, details = "scan.identification", None, {
            "ecus": ecus, "vehicle": rng.choice(["car-a", "car-b"])}
    else:
        action, ecu_field, details = "dtc.clear", ecu, {"outcome": "success"}
    body: dict[str, object] = {
        "seq": seq, "workstation": who, "vin": vin if rng.random() > 0.05 else None,
        "ecu": ecu_field, "action": action, "details": details, "hash": f"{seq:064x}",
        "technician": "t"}
    if rng.random() > 0.03:  # a few without a signed time: they count for neither
        body["time"] = rng.choice(TIMES)
    return json.dumps(body, sort_keys=True)


APPROVED = {"car-a": {"ENGINE": ["1.0", "1.1"], "ABS": ["2.0"]}}  # car-b: no baseline


def _outside_the_old_way(store: StoreSession) -> tuple[list[object], set[str]]:
    """What `fleet deviations` computed before the summary: every ECU's last known software
    from the records, compared in Python."""
    models = store.vehicle_models(from_records=True)
    found, unknown = [], set()
    for known in store.last_known(from_records=True):
        model = models.get(known[0])
        if not model or model not in APPROVED:
            unknown.add(model or f"(model of {known[0]} unknown)")
        elif known[2] not in APPROVED[model].get(known[1], []):
            found.append((known, model))
    return found, unknown


def _answers(dsn: str) -> tuple[object, ...]:
    with StoreSession(dsn) as store:
        outside = store.outside(APPROVED)
        assert outside == store.outside(APPROVED, from_records=True) \
            == _outside_the_old_way(store)
        assert outside[0] and "car-b" in outside[1]
        return (store.last_known(), store.last_known(from_records=True),
                store.vehicle_models(), store.vehicle_models(from_records=True))


def test_summary_matches_the_records_for_every_role(
        store_db: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
    migrations.init_store(store_db)  # schema 3: no summary yet
    monkeypatch.undo()
    rng = random.Random(21)
    names = [f"ws-{i}-{unique}" for i in range(3)]
    pending = []  # (workstation, log, seq, body), pushed in shuffled order
    for i, name in enumerate(names):
        enroll(store_db, "workstation", name, password=PASSWORD)
        for j in range(2):
            log = f"{i:016x}{j:016x}"
            with StoreSession(role_dsn(store_db, name)) as ws:
                ws.claim(log)
            pending += [(name, log, body) for body in
                        (_body(rng, name, seq) for seq in range(1, 61))]
    rng.shuffle(pending)
    enroll(store_db, "auditor", f"aud-{unique}", password=PASSWORD)
    auditor = role_dsn(store_db, f"aud-{unique}")

    def push(part: list[tuple[str, str, str]]) -> None:
        for name, log, body in part:
            with StoreSession(role_dsn(store_db, name)) as ws:
                assert ws.push_records(log, [body]) == 1

    push(pending[:200])
    assert migrations.upgrade_store(store_db) == (3, [4])  # backfills from the 200
    first = _answers(auditor)
    assert first[0] == first[1] and first[2] == first[3] and first[0]
    push(pending[200:])  # the rest through the trigger, still out of order
    for dsn in [auditor] + [role_dsn(store_db, n) for n in names]:
        kept, full, models, full_models = _answers(dsn)
        assert kept == full and models == full_models
        assert kept and models
    with StoreSession(auditor) as store:
        assert fleet.summary_problems(store) == []
        everyone = store.last_known()
    with StoreSession(role_dsn(store_db, names[0])) as store:
        own = store.last_known()
    assert {k[4] for k in own} == {names[0]}  # a workstation sees only its own
    assert len({k[4] for k in everyone}) == 3
    # ties happened: some answers chosen over a record with the same signed time
    with psycopg.connect(store_db) as conn:
        ties = conn.execute(
            "SELECT count(*) FROM workshop.fleet_software s JOIN workshop.records r "
            "ON r.vin = s.vin AND r.time = s.time AND (r.log, r.seq) <> (s.log, s.seq) "
            "AND r.software ? s.ecu").fetchone()
    assert ties and ties[0] > 0


def test_workstations_cannot_write_or_read_past_the_summary(store_db: str,
                                                            unique: str) -> None:
    migrations.init_store(store_db)
    enroll(store_db, "workstation", f"ws-{unique}", password=PASSWORD)
    dsn = role_dsn(store_db, f"ws-{unique}")
    with StoreSession(dsn) as ws:
        ws.claim("a" * 32)
        # a lying clock: signed far in the future, so it is "newest"
        ws.push_records("a" * 32, [json.dumps({
            "seq": 1, "time": "2999-01-01T00:00:00.000000Z", "workstation": f"ws-{unique}",
            "vin": VINS[0], "ecu": "ENGINE", "action": "flash.ecu", "hash": "1" * 64,
            "details": {"outcome": "success", "result": {"version_after": "6.6.6"}}})])
        assert [k[2:] for k in ws.last_known()] == [
            ("6.6.6", "2999-01-01T00:00:00.000000Z", f"ws-{unique}", "flash", "a" * 32, 1)]
    attempts = [
        "INSERT INTO workshop.software_by_workstation VALUES (session_user, 'V', 'E', '1', "
        "'3000', 'l', 1, 'flash', now())",
        "UPDATE workshop.software_by_workstation SET version = '1.1.0'",
        "DELETE FROM workshop.software_by_workstation",
        "UPDATE workshop.model_by_workstation SET model = 'x'",
        "SELECT * FROM workshop.fleet_software",
        "SELECT * FROM workshop.fleet_models",
        "SELECT workshop.note_last_known()",
    ]
    for statement in attempts:
        with psycopg.connect(dsn) as conn, pytest.raises(psycopg.Error):
            conn.execute(statement)
    with StoreSession(dsn) as ws, pytest.raises(StoreError):
        ws._run("writing", lambda c: c.execute(
            "INSERT INTO workshop.fleet_software VALUES ('V', 'E', '1', '3000', "
            "session_user, 'l', 1, 'flash', now())"))


def _flash_body(who: str, seq: int, vin: str) -> str:
    return json.dumps({"seq": seq, "time": "2026-03-01T10:00:00.000000Z", "workstation": who,
                       "vin": vin, "ecu": "ENGINE", "action": "flash.ecu",
                       "hash": f"{seq:064x}", "details": {
                           "outcome": "success", "result": {"version_after": "1.1.0"}}})


def test_a_push_rolled_back_by_a_deadlock_on_the_summary_is_run_again(
        store_db: str, unique: str) -> None:
    """Two pushes about the same two vehicles, holding their summary rows in opposite order:
    the server breaks the deadlock by rolling one back, and the push runs it again."""
    migrations.init_store(store_db)
    name = f"ws-{unique}"
    enroll(store_db, "workstation", name, password=PASSWORD)
    ws = StoreSession(role_dsn(store_db, name))
    ws.claim("a" * 32)
    with psycopg.connect(store_db) as other:  # the owner: waits long before it checks
        other.execute("SET deadlock_timeout = '60s'")
        other.execute("INSERT INTO workshop.logs (log) VALUES (%s)", ("b" * 32,))
        other.execute("INSERT INTO workshop.records (log, body) VALUES (%s, %s)",
                      ("b" * 32, _flash_body("owner", 1, VINS[1])))
        pid = ws.conn.info.backend_pid
        done: list[int] = []
        pusher = threading.Thread(target=lambda: done.append(ws.push_records("a" * 32, [
            _flash_body(name, 1, VINS[0]), _flash_body(name, 2, VINS[1])])))
        pusher.start()
        with psycopg.connect(store_db, autocommit=True) as watch:
            while pusher.is_alive() and not watch.execute(
                    "SELECT wait_event_type IS NOT DISTINCT FROM 'Lock' FROM pg_stat_activity "
                    "WHERE pid = %s", (pid,)).fetchone()[0]:
                watch.execute("SELECT pg_sleep(0.05)")
        # now the other side takes VINS[0]: the push's deadlock check rolls it back, it runs
        # again and waits for this transaction to commit
        other.execute("INSERT INTO workshop.records (log, body) VALUES (%s, %s)",
                      ("b" * 32, _flash_body("owner", 2, VINS[0])))
        other.commit()
        pusher.join(timeout=60)
    assert done == [2]
    with StoreSession(store_db) as owner:
        assert fleet.summary_problems(owner) == []
    ws.close()
