"""Scan benchmark: concurrent vs sequential scans on the bus-rate model.

Run: python benchmarks/scan.py [--runs N] [--fleet N]
`truck` has 30 ECUs on 29-bit normal-fixed addressing at 500 kbit/s with 20-50 ms ECU
latency; the synthetic fleet has `--fleet` ECUs (default 200) of the same kind, generated
here. Every frame takes its on-wire time on the shared simulated wire. Concurrent and
sequential runs are interleaved, so load on the machine hits both alike.

Lower bound of a concurrent scan: the slowest ECU's own chain of requests (identification,
DTCs, their records: each waits for the one before), timed from its EcuStarted to its
EcuFinished event in the sequential scan, where it has the bus to itself.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from workshop.foundation.events import EcuFinished, EcuStarted, Event
from workshop.services import diagnose
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import AdapterConfig
from workshop.vehicles import VehicleDefinition, load_vehicle


def synthetic_vehicle(n: int, folder: Path) -> VehicleDefinition:
    """`n` ECUs like the truck's: 29-bit, 500 kbit/s, 20-50 ms, full identification, a DTC."""
    lines = ['name = "fleet"', 'model = "Synthetic"', 'vin = "1M8GDM9AXKP042788"', "",
             "[bus]", "bitrate = 500000", 'addressing = "normal_fixed_29bit"',
             "tester_address = 0xF1", "latency_ms = [20, 50]", ""]
    for a in [a for a in range(0x01, 0xFF) if a != 0xF1][:n]:
        lines += ["[[ecus]]", f'name = "N{a:02X}"', f"address = 0x{a:02X}", "",
                  "[ecus.identification]"]
        lines += [f'F{did} = "{did}-{a:02X}"' for did in
                  ("180", "187", "188", "189", "18A", "18C", "191", "193", "195", "197", "19E")]
        lines += ["", "[[ecus.dtcs]]", f'code = "P0{a:02X}011"', "status = 0x2F",
                  "present = true", ""]
    path = folder / f"fleet-{n}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_vehicle(path)


class ChainClock:
    """An event sink timing each ECU's chain of requests. A chain is the ECU's first try
    alone on the bus (sequential run): it ends at its EcuFinished or when the next ECU
    starts. An ECU retried after the others finishes at the end of the scan, which is not
    its own chain."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self.chains: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        now = time.perf_counter()
        if isinstance(event, EcuStarted | EcuFinished):
            for ecu, t in list(self._started.items()):
                if ecu == event.ecu or isinstance(event, EcuStarted):
                    self.chains[ecu] = max(self.chains.get(ecu, 0.0), now - t)
                    del self._started[ecu]
        if isinstance(event, EcuStarted):
            self._started[event.ecu] = now

    @property
    def longest(self) -> float:
        return max(self.chains.values(), default=0.0)


def one_scan(vehicle: VehicleDefinition, concurrent: bool, run: int
             ) -> tuple[float, float, int, int, int, float]:
    """(scan s, wall s with discovery, ECUs answered, ECUs, peak threads, longest chain s);
    prints each ECU that did not answer in full, with what went wrong."""
    adapter = AdapterConfig(channel=f"bench-{vehicle.name}-{run}-{concurrent}",
                            bitrate=vehicle.bitrate, rate_model=True)
    with VehicleConnection(adapter, vehicle) as conn:
        base = threading.active_count()
        peak = [0]
        chains = ChainClock()

        def sample(event: Event) -> None:
            peak[0] = max(peak[0], threading.active_count() - base)
            chains(event)

        t0 = time.perf_counter()
        result = diagnose.scan(conn, concurrent=concurrent, discover=True, events=sample)
        wall = time.perf_counter() - t0  # with functional discovery
    answered = sum(1 for e in result.ecus if e.error is None)
    for e in result.ecus:
        if e.error is not None:
            print(f"  {'concurrent' if concurrent else 'sequential'} run {run + 1}: {e.name} "
                  f"did not answer in full: {e.error}", flush=True)
    return (result.duration_s, wall, answered, len(result.ecus), peak[0], chains.longest)


def bench(vehicle: VehicleDefinition, runs: int, label: str) -> None:
    conc, seq, walls, peaks, bounds = [], [], [], [], []
    for run in range(runs):  # interleaved
        t, wall, ok, n, peak, _ = one_scan(vehicle, True, run)
        conc.append(t)
        walls.append(wall)
        peaks.append(peak)
        assert ok == n, f"concurrent scan: only {ok}/{n} ECUs answered"
        t, _, ok, n, _, chain = one_scan(vehicle, False, run)
        seq.append(t)
        bounds.append(chain)
        assert ok == n, f"sequential scan: only {ok}/{n} ECUs answered"
    mc, ms = statistics.median(conc), statistics.median(seq)
    mw, mb = statistics.median(walls), statistics.median(bounds)
    print(f"{label}, {runs} runs")
    print(f"  concurrent scan : median {mc:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in conc)})")
    print(f"  sequential scan : median {ms:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in seq)})")
    print(f"  lower bound     : median {mb:6.2f} s  (the slowest ECU's own chain of requests, "
          f"alone on the bus); concurrent/bound {mc / mb:.2f}")
    print(f"  concurrent incl. functional discovery: median {mw:6.2f} s")
    print(f"  ratio sequential/concurrent: {ms / mc:5.1f}x")
    print(f"  tester threads during the concurrent scan: at most {max(peaks)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fleet", type=int, default=200, help="ECUs of the synthetic vehicle")
    args = parser.parse_args()
    os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp(prefix="workshop-bench-"))
    for name in ("UdsClient", "isotp", "can"):  # NRC 0x31 on absent DIDs, timeouts reported
        logging.getLogger(name).setLevel(logging.CRITICAL)  # in the results instead
    bench(load_vehicle("truck"), args.runs,
          "truck, 30 ECUs, 500 kbit/s bus-rate model, 20-50 ms latency "
          "(target: concurrent <= 2 s, >= 8x)")
    fleet = synthetic_vehicle(args.fleet, Path(tempfile.mkdtemp(prefix="workshop-fleet-")))
    bench(fleet, args.runs,
          f"synthetic, {len(fleet.ecus)} ECUs, 500 kbit/s bus-rate model, 20-50 ms latency")


if __name__ == "__main__":
    main()
