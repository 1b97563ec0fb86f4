"""Scan benchmark: concurrent vs sequential scan of `truck` on the bus-rate model.

Run: python benchmarks/scan.py [--runs N]
The truck has 30 ECUs on 29-bit normal-fixed addressing at 500 kbit/s with 20-50 ms ECU
latency; every frame takes its on-wire time on the shared simulated wire.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from workshop.services import diagnose
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import AdapterConfig
from workshop.vehicles import load_vehicle


def one_scan(concurrent: bool, run: int) -> tuple[float, float, int, int]:
    vehicle = load_vehicle("truck")
    adapter = AdapterConfig(channel=f"bench-{run}-{concurrent}", bitrate=vehicle.bitrate,
                            rate_model=True)
    with VehicleConnection(adapter, vehicle) as conn:
        t0 = time.perf_counter()
        result = diagnose.scan(conn, concurrent=concurrent, discover=True)
        wall = time.perf_counter() - t0  # with functional discovery
    answered = sum(1 for e in result.ecus if e.error is None)
    return result.duration_s, wall, answered, len(result.ecus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp(prefix="workshop-bench-"))
    conc, seq, walls = [], [], []
    for run in range(args.runs):  # interleaved, so load on the machine hits both alike
        t, wall, ok, n = one_scan(True, run)
        conc.append(t)
        walls.append(wall)
        assert ok == n, f"concurrent scan: only {ok}/{n} ECUs answered"
        t, _, ok, n = one_scan(False, run)
        seq.append(t)
        assert ok == n, f"sequential scan: only {ok}/{n} ECUs answered"
    mc, ms = statistics.median(conc), statistics.median(seq)
    mw = statistics.median(walls)
    print(f"truck, 30 ECUs, 500 kbit/s bus-rate model, 20-50 ms latency, {args.runs} runs")
    print(f"  concurrent scan : median {mc:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in conc)})")
    print(f"  sequential scan : median {ms:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in seq)})")
    print(f"  concurrent incl. functional discovery: median {mw:6.2f} s")
    print(f"  ratio sequential/concurrent: {ms / mc:5.1f}x   (target: concurrent <= 2 s, >= 8x)")


if __name__ == "__main__":
    main()
