"""Scan benchmark over DoIP: a 60-ECU vehicle behind the simulated DoIP gateway on loopback.

Run: python benchmarks/doip_scan.py [--runs N] [--ecus N]
The vehicle is benchmarks/scan.py's synthetic one (29-bit, full identification and a DTC per
ECU, 20-50 ms ECU latency); its ECUs sit on the gateway's CAN side at 500 kbit/s with the
bus-rate model (every frame takes its on-wire time), the tester reaches them over TCP through
the gateway (`sim-doip`). Concurrent and sequential scans are interleaved.

Lower bound of a concurrent scan, as in benchmarks/scan.py: the slowest ECU's own chain of
requests, timed from its EcuStarted to its EcuFinished event in the sequential scan (where
it has the gateway and the bus to itself). Goal: concurrent within 1.5x of it. Beside it, the
same vehicle's concurrent scan on the CAN bus model without the gateway (`sim`): what the
simulated ECUs and the tester's threads cost on this machine without DoIP.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scan import one_scan as can_scan  # noqa: E402
from benchmarks.scan import synthetic_vehicle  # noqa: E402
from workshop.foundation.events import EcuFinished, EcuStarted, Event  # noqa: E402
from workshop.services import diagnose  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.transport.adapters import SIM_DOIP, AdapterConfig  # noqa: E402
from workshop.vehicles import VehicleDefinition  # noqa: E402


def one_scan(vehicle: VehicleDefinition, concurrent: bool, run: int
             ) -> tuple[float, int, int, float]:
    """(scan s, ECUs answered, ECUs, longest chain s)."""
    adapter = AdapterConfig(interface=SIM_DOIP, channel=f"bench-doip-{run}-{concurrent}",
                            bitrate=vehicle.bitrate, rate_model=True)
    with VehicleConnection(adapter, vehicle) as conn:
        started: dict[str, float] = {}
        chains: dict[str, float] = {}

        def sample(event: Event) -> None:  # as benchmarks/scan.py: an ECU's first try alone
            now = time.perf_counter()
            if isinstance(event, EcuStarted | EcuFinished):
                for ecu, t in list(started.items()):
                    if ecu == event.ecu or isinstance(event, EcuStarted):
                        chains[ecu] = max(chains.get(ecu, 0.0), now - t)
                        del started[ecu]
            if isinstance(event, EcuStarted):
                started[event.ecu] = now

        result = diagnose.scan(conn, concurrent=concurrent, discover=False, events=sample)
    answered = sum(1 for e in result.ecus if e.error is None)
    for e in result.ecus:
        if e.error is not None:
            print(f"  {'concurrent' if concurrent else 'sequential'} run {run + 1}: {e.name} "
                  f"did not answer in full: {e.error}", flush=True)
    return result.duration_s, answered, len(result.ecus), max(chains.values(), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ecus", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp(prefix="workshop-bench-"))
    for name in ("UdsClient", "isotp", "can"):  # NRC 0x31 on absent DIDs, in the results
        logging.getLogger(name).setLevel(logging.CRITICAL)
    vehicle = synthetic_vehicle(args.ecus, Path(tempfile.mkdtemp(prefix="workshop-fleet-")))
    conc, seq, bounds, can = [], [], [], []
    for run in range(args.runs):  # interleaved
        t, ok, n, _ = one_scan(vehicle, True, run)
        assert ok == n, f"concurrent scan: only {ok}/{n} ECUs answered"
        conc.append(t)
        t, _wall, ok, n, _peak, _chain = can_scan(vehicle, True, run)
        assert ok == n, f"concurrent CAN scan: only {ok}/{n} ECUs answered"
        can.append(t)
        t, ok, n, chain = one_scan(vehicle, False, run)
        assert ok == n, f"sequential scan: only {ok}/{n} ECUs answered"
        seq.append(t)
        bounds.append(chain)
    mc, ms, mb = statistics.median(conc), statistics.median(seq), statistics.median(bounds)
    mcan = statistics.median(can)
    print(f"DoIP scan, synthetic {len(vehicle.ecus)} ECUs behind the simulated gateway "
          f"(500 kbit/s bus-rate model on its CAN side, 20-50 ms latency), {args.runs} runs")
    print(f"  concurrent scan : median {mc:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in conc)})")
    print(f"  sequential scan : median {ms:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in seq)})")
    print(f"  lower bound     : median {mb:6.2f} s  (the slowest ECU's own chain of requests); "
          f"concurrent/bound {mc / mb:.2f} (goal <= 1.5)")
    print(f"  ratio sequential/concurrent: {ms / mc:5.1f}x")
    print(f"  the same vehicle on the CAN bus model directly (sim, concurrent): median "
          f"{mcan:6.2f} s (runs: {', '.join(f'{x:.2f}' for x in can)}); DoIP/CAN {mc / mcan:.2f}")


if __name__ == "__main__":
    main()
