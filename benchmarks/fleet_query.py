"""Fleet queries on a large store: VIN history and baseline deviation over N records from V
vehicles (default 1,000,000 from 10,000), median and p99, on the same data before and after
migration 4 (the fleet summary kept by a trigger), side by side; and the push rate with and
without that trigger.

Rows are synthetic but schema-valid (the record JSON a workstation pushes: flash intents
and outcomes, scan identifications, DTC clears, from 200 workstations' logs), loaded with
COPY; signatures are random hex (query timing does not verify them). Measured are the
store's queries as `fleet history` and `fleet deviations` run them, as an auditor role
(row-level security on): the VIN history query for random VINs, and the whole-fleet last
known software per ECU with the vehicle models (what deviations compares to the baseline).
"Before" is the store at schema version 3 with the queries as they were then (a sort of
every software-bearing record); then `upgrade_store` applies migration 4 (its duration,
the backfill, is shown) and the same questions are asked of the summary. The push rate is
`workshop sync`'s push (batches of 500, as a workstation role) of the same records into a
fresh store at schema 3 and one at schema 4, alternately, median of the rounds. A throwaway
server is started from the distribution's binaries (as tests/store does). Schema 2's
figures in README come from an earlier run (its deviation query takes ~30 s a run).

Run: python benchmarks/fleet_query.py [--records 1000000] [--vehicles 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from tests.store.helpers import PASSWORD, role_dsn
from tests.store.pgserver import Server, running_server
from workshop.store import migrations
from workshop.store.admin import enroll
from workshop.store.session import BATCH, StoreSession

ECUS = ("ENGINE", "TRANSMISSION", "ABS", "AIRBAG", "BODY", "INSTRUMENT", "GATEWAY")
VERSIONS = ("1.0.0", "1.0.5", "1.1.0", "1.2.0")
LOGS = 200
# the queries of schema version 3 (before the summary): a sort of every such record
V3_LAST_KNOWN = (
    "SELECT DISTINCT ON (r.vin, e.key) r.vin, e.key, e.value ->> 'software_version', r.time, "
    "r.workstation, CASE r.action WHEN 'flash.ecu' THEN 'flash' ELSE 'scan' END "
    "FROM workshop.records r, jsonb_each(r.software) e "
    "WHERE r.software IS NOT NULL AND r.vin IS NOT NULL AND jsonb_typeof(e.value) = 'object' "
    "AND e.value ->> 'software_version' IS NOT NULL "
    "ORDER BY r.vin, e.key, r.time DESC")
V3_MODELS = (
    "SELECT DISTINCT ON (vin) vin, model FROM workshop.records "
    "WHERE model IS NOT NULL AND vin IS NOT NULL ORDER BY vin, time DESC")


DEVIATION = "deviation, whole fleet (half outside)"
IN_BASELINE = "deviation, whole fleet (all in baseline)"
READ_OUT = "every ECU's last known software read out"


def _vin(n: int) -> str:
    return f"WBENCH{n:011d}"


_CLEAR = '{"group":"FFFFFF","outcome":"success","phase":"outcome"}'


def _details(rng: random.Random, kind: float, ecu: str) -> list[tuple[str, str | None, str]]:
    """(action, ecu, details JSON) of one piece of work: a DTC clear, a flash (intent and
    ECU outcome) or a scan identification. JSON written by hand: json.dumps of a million
    records would take most of the generation time."""
    if kind < 0.4:
        return [("dtc.clear", ecu, _CLEAR)]
    if kind < 0.85:
        old, new = rng.choice(VERSIONS), rng.choice(VERSIONS)
        dtcs = '["P030100"]' if rng.random() < 0.2 else "[]"
        outcome = "success" if rng.random() < 0.95 else "failure"
        return [("flash", "*", f'{{"phase":"intent","request":{{"dtcs_before":{{"{ecu}":{dtcs}}},'
                               f'"ecus":{{"{ecu}":{{"from":"{old}","to":"{new}"}}}},'
                               f'"vehicle":"demo-car"}}}}'),
                ("flash.ecu", ecu, f'{{"outcome":"{outcome}","phase":"outcome","result":'
                                   f'{{"version_after":"{new}","version_before":"{old}"}}}}')]
    ecus = ",".join(f'"{e}":{{"part_number":"5Q0","software_version":"{rng.choice(VERSIONS)}"}}'
                    for e in ECUS)
    return [("scan.identification", None, f'{{"ecus":{{{ecus}}},"vehicle":"demo-car"}}')]


def _bodies(records: int, vehicles: int, seed: int = 7, logs: int = LOGS,
            prefix: str = "bench-ws") -> list[tuple[str, str, str]]:
    """(log, workstation, body) rows: each log a chain of seqs, time rising within it."""
    rng = random.Random(seed)
    rows = []
    per_log = records // logs
    zeros, signer = "0" * 64, "f" * 64
    for log_no in range(logs):
        log, who = f"{seed:08x}{log_no:024x}", f"{prefix}-{log_no}"
        seq = 0
        while seq < per_log:
            vin = _vin(rng.randrange(vehicles))
            day = rng.randrange(1, 365)
            stamp = f"2026-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}T{seq % 24:02d}:" \
                    f"{seq % 60:02d}:{rng.randrange(60):02d}.000000Z"
            for action, ecu, details in _details(rng, rng.random(), rng.choice(ECUS)):
                seq += 1
                on = "null" if ecu is None else f'"{ecu}"'
                rows.append((log, who, (
                    f'{{"action":"{action}","details":{details},"ecu":{on},'
                    f'"hash":"{rng.getrandbits(256):064x}","prev_hash":"{zeros}","seq":{seq},'
                    f'"signature":"00","signer":"{signer}","technician":"bench",'
                    f'"time":"{stamp}","vin":"{vin}","workstation":"{who}"}}')))
    return rows


def _copy(dsn: str, rows: list[tuple[str, str, str]]) -> None:
    """COPY in text format, in large chunks (the JSON holds no tab, newline or backslash)."""
    with psycopg.connect(dsn) as conn, conn.cursor().copy(
            "COPY workshop.records (log, workstation, body) FROM STDIN") as copy:
        for i in range(0, len(rows), 20_000):
            copy.write("".join(f"{a}\t{b}\t{c}\n" for a, b, c in rows[i:i + 20_000]))


def _load(dsn: str, rows: list[tuple[str, str, str]]) -> None:
    """The logs, then the records on two connections at once (the server derives the
    generated columns of each row: that, not the transfer, is the cost)."""
    with psycopg.connect(dsn) as conn, conn.cursor().copy(
            "COPY workshop.logs (log, workstation) FROM STDIN") as copy:
        for log, who in sorted({(r[0], r[1]) for r in rows}):
            copy.write_row((log, who))
    half = len(rows) // 2
    while half < len(rows) and rows[half][0] == rows[half - 1][0]:
        half += 1  # each log whole on one connection
    threads = [threading.Thread(target=_copy, args=(dsn, part))
               for part in (rows[:half], rows[half:])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE workshop.records")


def _timed(work: Callable[[], object], n: int) -> tuple[float, float]:
    """Median and p99 in ms of n runs."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def _measure(dsn: str, vehicles: int, n_vin: int, n_dev: int, *, v3: bool
             ) -> dict[str, tuple[float, float]]:
    rng = random.Random(11)
    with StoreSession(dsn) as store:
        history = _timed(lambda: store.vin_records(_vin(rng.randrange(vehicles))), n_vin)
        if v3:  # deviations read every ECU's last known software out and compared it
            def fleet() -> object:
                return (store.conn.execute(V3_LAST_KNOWN).fetchall(),
                        store.conn.execute(V3_MODELS).fetchall())
            deviation = _timed(fleet, n_dev)
            return {"VIN history": history, DEVIATION: deviation, IN_BASELINE: deviation,
                    READ_OUT: deviation}
        # what `fleet deviations` asks now: the comparison in the database, only the answer
        # back (the baselines' approved versions are a parameter). Versions are random in
        # this data, so approving two of four leaves half the fleet outside: that many rows
        # come back; approving all four measures the comparison alone.
        half = {"demo-car": {e: ["1.1.0", "1.2.0"] for e in ECUS}}
        print(f"{len(store.outside(half)[0]):,} ECUs outside a baseline approving 2 of the 4 "
              "versions", flush=True)
        deviation = _timed(lambda: store.outside(half), n_dev)
        everything = {"demo-car": {e: list(VERSIONS) for e in ECUS}}
        in_baseline = _timed(lambda: store.outside(everything), n_dev)
        read_out = _timed(lambda: (store.last_known(), store.vehicle_models()), n_dev)
    return {"VIN history": history, DEVIATION: deviation, IN_BASELINE: in_baseline,
            READ_OUT: read_out}


def _push_rates(server: Server, records: int, rounds: int) -> dict[int, list[float]]:
    """Records/s of `workshop sync`'s push into a store at schema 3 and one at schema 4,
    alternately, the same kind of records each round (a new log per round)."""
    shipped = migrations.MIGRATIONS
    dsns = {}
    for version in (3, 4):
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE push{version}")
        dsns[version] = server.dsn(dbname=f"push{version}")
        migrations.MIGRATIONS = shipped[:version]
        migrations.init_store(dsns[version])
        migrations.MIGRATIONS = shipped
        enroll(dsns[version], "workstation", f"bench-push-{version}", password=PASSWORD)
    rates: dict[int, list[float]] = {3: [], 4: []}
    for n in range(rounds):
        for version in (3, 4):
            who = f"bench-push-{version}"
            rows = _bodies(records, 2_000, seed=100 + n, logs=1, prefix=who)
            rows = [(log, w.rsplit("-", 1)[0], b.replace(f'"{w}"', f'"{who}"'))
                    for log, w, b in rows]
            with StoreSession(role_dsn(dsns[version], who)) as store:
                store.claim(rows[0][0])
                t0 = time.perf_counter()
                for i in range(0, len(rows), BATCH):
                    store.push_records(rows[0][0], [b for _, _, b in rows[i:i + BATCH]])
                rates[version].append(len(rows) / (time.perf_counter() - t0))
    return rates


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--vehicles", type=int, default=10_000)
    ap.add_argument("--vin-queries", type=int, default=200)
    ap.add_argument("--v3-deviation-queries", type=int, default=5)  # seconds each
    ap.add_argument("--deviation-queries", type=int, default=50)
    ap.add_argument("--push-records", type=int, default=5_000)
    ap.add_argument("--push-rounds", type=int, default=5)
    args = ap.parse_args()
    with running_server() as server:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        owner = server.dsn(dbname="bench")
        shipped = migrations.MIGRATIONS
        migrations.MIGRATIONS = shipped[:3]  # the store as schema version 3 left it
        migrations.init_store(owner)
        migrations.MIGRATIONS = shipped
        enroll(owner, "auditor", "bench-auditor", password=PASSWORD)
        auditor = role_dsn(owner, "bench-auditor")
        t0 = time.perf_counter()
        rows = _bodies(args.records, args.vehicles)
        t1 = time.perf_counter()
        _load(owner, rows)
        t2 = time.perf_counter()
        print(f"{len(rows):,} records from {args.vehicles:,} vehicles, {LOGS} logs: generated "
              f"in {t1 - t0:.1f} s, loaded with COPY (and analysed) in {t2 - t1:.1f} s",
              flush=True)
        del rows
        before = _measure(auditor, args.vehicles, args.vin_queries, args.v3_deviation_queries,
                          v3=True)
        t3 = time.perf_counter()
        migrations.upgrade_store(owner)
        t4 = time.perf_counter()
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            sizes = conn.execute(
                "SELECT (SELECT count(*) FROM workshop.fleet_software), "
                "(SELECT count(*) FROM workshop.software_by_workstation)").fetchone()
        print(f"migration 4 on this data (backfill): {t4 - t3:.1f} s; summary: {sizes[0]:,} "
              f"(VIN, ECU) rows, {sizes[1]:,} (workstation, VIN, ECU) rows", flush=True)
        after = _measure(auditor, args.vehicles, args.vin_queries, args.deviation_queries,
                         v3=False)
        rates = _push_rates(server, args.push_records, args.push_rounds)
    print(f"{'query (median / p99)':<42} {'schema 3':>22} {'schema 4':>22}")
    for label, (med, p99) in after.items():
        b_med, b_p99 = before[label]
        print(f"{label:<42} {b_med:>9.1f} / {b_p99:>7.1f} ms {med:>9.1f} / {p99:>7.1f} ms "
              f"  x{b_med / med:.1f}")
    r3, r4 = statistics.median(rates[3]), statistics.median(rates[4])
    print(f"push ({args.push_records:,} records x {args.push_rounds} rounds, median): "
          f"schema 3 {r3:,.0f} rec/s, schema 4 {r4:,.0f} rec/s ({r4 / r3:.2f} of it); rounds "
          f"{[round(r) for r in rates[3]]} / {[round(r) for r in rates[4]]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
