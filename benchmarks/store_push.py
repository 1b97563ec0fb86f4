"""Central store push rate: N workstations pushing M signed records each at once to one
PostgreSQL server, against one workstation alone; then lost/duplicated counts.

Records are signed in memory first (the local SQLite log is benchmarked in audit_rate.py);
what is measured is the push as `workshop sync` does it: batches of 500 in one transaction
each, ON CONFLICT DO NOTHING, row-level security checked per row. A throwaway server is
started from the distribution's binaries (as tests/store does).

Run: python benchmarks/store_push.py [--workstations 10] [--records 2000]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from tests.store.helpers import role_dsn, signer
from tests.store.pgserver import running_server
from workshop.audit.records import (
    GENESIS_HASH,
    canonical_json,
    record_hash,
    record_signed_bytes,
)
from workshop.audit.signing import chain_pem
from workshop.store.admin import enroll
from workshop.store.migrations import init_store
from workshop.store.session import BATCH, StoreSession


def signed_bodies(name: str, count: int) -> tuple[object, list[str]]:
    who = signer(name)
    prev, bodies = GENESIS_HASH, []
    for seq in range(1, count + 1):
        content = {"seq": seq, "time": f"2026-12-06T00:00:{seq % 60:02d}.000000Z",
                   "workstation": name, "technician": "bench", "vin": f"VIN{seq % 997:014d}",
                   "ecu": "ENGINE", "action": "dtc.clear", "details": {"n": seq},
                   "prev_hash": prev, "signer": who.fingerprint}
        digest = record_hash(content)
        bodies.append(canonical_json({**content, "hash": digest,
                                      "signature": who.sign(record_signed_bytes(digest))}))
        prev = digest
    return who, bodies


def push(dsn: str, log: str, who: object, bodies: list[str]) -> None:
    with StoreSession(dsn) as store:
        store.claim(log)
        store.push_certificates({who.fingerprint: chain_pem(who.chain)})  # type: ignore[attr-defined]
        for i in range(0, len(bodies), BATCH):
            store.push_records(log, bodies[i:i + BATCH])


def run(dsn: str, names: list[str], records: int) -> float:
    jobs = []
    for i, name in enumerate(names):
        enroll(dsn, "workstation", name, password="bench-Pa55word")
        who, bodies = signed_bodies(name, records)
        jobs.append((role_dsn(dsn, name).replace("ws-secret-Pa55", "bench-Pa55word"),
                     f"{i:032x}" if len(names) > 1 else "f" * 32, who, bodies))
    start = threading.Barrier(len(jobs) + 1)

    def work(job: tuple) -> None:
        start.wait()
        push(*job)

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workstations", type=int, default=10)
    ap.add_argument("--records", type=int, default=2000)
    args = ap.parse_args()
    with running_server(durable=True) as server:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        dsn = server.dsn(dbname="bench")
        init_store(dsn)
        alone = run(dsn, ["bench-alone"], args.records)
        many = run(dsn, [f"bench-{i}" for i in range(args.workstations)], args.records)
        with psycopg.connect(dsn) as conn:
            total, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT (log, seq)) FROM workshop.records").fetchone()
    expected = args.records * (args.workstations + 1)
    rate_alone = args.records / alone
    rate_many = args.records * args.workstations / many
    print(f"one workstation: {args.records} records in {alone:.2f} s = {rate_alone:,.0f} rec/s")
    print(f"{args.workstations} workstations at once: {args.records * args.workstations} "
          f"records in {many:.2f} s = {rate_many:,.0f} rec/s (x{rate_many / rate_alone:.2f})")
    print(f"stored {total} of {expected}: lost {expected - total}, duplicated "
          f"{total - distinct}")
    return 0 if total == expected == distinct else 1


if __name__ == "__main__":
    raise SystemExit(main())
