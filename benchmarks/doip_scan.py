"""Scan benchmark over DoIP: a 60-ECU vehicle behind the simulated DoIP gateway on loopback.

Run: python benchmarks/doip_scan.py [--runs N] [--ecus N] [--workers N]
The vehicle is benchmarks/scan.py's synthetic one (29-bit, full identification and a DTC per
ECU, 20-50 ms ECU latency); its ECUs sit on the gateway's CAN side at 500 kbit/s with the
bus-rate model (every frame takes its on-wire time), the tester reaches them over TCP through
the gateway. Four setups, interleaved in each run:
  served  the simulated vehicle and its gateway in a process of their own (as a real gateway
          is another machine), the tester through `--adapter doip --host 127.0.0.1 --port N`
  ethernet  the same, with every ECU on the vehicle's Ethernet (`ethernet = true`: the
          gateway serves it with no CAN hop), as a vehicle of DoIP nodes
  in-process  `sim-doip`: gateway, 60 ECUs and tester in one process (one interpreter lock)
  CAN     the same vehicle on the CAN bus model without a gateway (`sim`)
Each setup's concurrent scan is set against its own sequential scan's bound, as in
benchmarks/scan.py: the slowest ECU's own chain of requests (its first try alone on the bus),
timed from its EcuStarted to its EcuFinished event. Goal: concurrent within 1.5x of it.
Beside it, the bus floor: the on-wire time of every CAN frame of the CAN setup's concurrent
scan, summed (the simulated wire carries one frame at a time, so no scan of these ECUs on
one 500 kbit/s bus is shorter; a real gateway often has several CAN buses).
Beside each served setup's concurrent scan, the CPU seconds the served vehicle's process
spent on it: when they come near the scan's own seconds, the simulated vehicle (60 ECUs as
Python threads on one interpreter lock), not the tester, sets the pace.
`--workers` caps the scan's concurrent ECUs (the scan's own default unless given: 32 on CAN,
all of them over DoIP), to see whether the scan's own concurrency is the limit.
"""

from __future__ import annotations

import argparse
import functools
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import can

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workshop.diagnostics import scan as scan_module  # noqa: E402
from workshop.services import diagnose  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.services.sim_serve import ServedVehicle  # noqa: E402
from workshop.transport.adapters import DOIP, SIM, SIM_DOIP, AdapterConfig  # noqa: E402
from workshop.transport.simbus import SimulatedWire  # noqa: E402
from workshop.vehicles import VehicleDefinition, load_vehicle  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from scan import ChainClock, synthetic_vehicle  # noqa: E402

SETUPS = ("served", "ethernet", "in-process", "CAN")
SERVED = ("served", "ethernet")


class BusClock:
    """Sums the on-wire time of every frame this process's simulated wires carry."""

    def __init__(self) -> None:
        self.busy_s = 0.0
        self._lock = threading.Lock()
        transmit = SimulatedWire.transmit

        def counting(wire: SimulatedWire, msg: can.Message, deliver: Any) -> float:
            if wire.model is not None:
                with self._lock:
                    self.busy_s += wire.model.message_time(msg)
            return transmit(wire, msg, deliver)

        SimulatedWire.transmit = counting  # type: ignore[method-assign,assignment]


BUS = BusClock()


def serve(vehicle: str, home: str, pipe: Connection) -> None:
    """The vehicle behind its gateway (bus-rate model on its CAN side), a process of its own."""
    os.environ["WORKSHOP_HOME"] = home
    v = load_vehicle(Path(vehicle))
    adapter = AdapterConfig(channel=f"doip-scan-{uuid.uuid4()}", bitrate=v.bitrate,
                            rate_model=True)
    with ServedVehicle(v, adapter, 0) as served:
        pipe.send(served.port)
        while pipe.recv() is not None:  # asked for its CPU time so far
            pipe.send(time.process_time())


def adapter_for(setup: str, vehicle: VehicleDefinition, port: int, run: int) -> AdapterConfig:
    if setup in SERVED:
        return AdapterConfig(interface=DOIP, host="127.0.0.1", port=port)
    return AdapterConfig(interface=SIM_DOIP if setup == "in-process" else SIM,
                         channel=f"bench-doip-{run}-{uuid.uuid4()}", bitrate=vehicle.bitrate,
                         rate_model=True)


def one_scan(vehicle: VehicleDefinition, adapter: AdapterConfig, concurrent: bool
             ) -> tuple[float, int, int, float]:
    """(scan s, ECUs answered, ECUs, longest chain s)."""
    with VehicleConnection(adapter, vehicle) as conn:
        chains = ChainClock()
        result = diagnose.scan(conn, concurrent=concurrent, discover=False, events=chains)
    answered = sum(1 for e in result.ecus if e.error is None)
    for e in result.ecus:
        if e.error is not None:
            print(f"  {adapter.interface} {'concurrent' if concurrent else 'sequential'}: "
                  f"{e.name} did not answer in full: {e.error}", flush=True)
    return result.duration_s, answered, len(result.ecus), chains.longest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ecus", type=int, default=60)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--setups", default=",".join(SETUPS),
                        help=f"comma-separated, of {', '.join(SETUPS)}")
    args = parser.parse_args()
    setups = [s for s in args.setups.split(",") if s]
    home = os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp(prefix="workshop-bench-"))
    for name in ("UdsClient", "isotp", "can"):  # NRC 0x31 on absent DIDs, in the results
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if args.workers is not None:  # the service passes none: the scan's default, replaced
        diagnose.scan_vehicle = functools.partial(scan_module.scan_vehicle,  # type: ignore
                                                  max_workers=args.workers)
    folder = Path(tempfile.mkdtemp(prefix="workshop-fleet-"))
    vehicle = synthetic_vehicle(args.ecus, folder)
    on_ethernet = folder / f"fleet-{args.ecus}-ethernet.toml"
    on_ethernet.write_text((folder / f"fleet-{args.ecus}.toml").read_text().replace(
        "[ecus.identification]", "ethernet = true\n\n[ecus.identification]"))
    conc: dict[str, list[float]] = {s: [] for s in setups}
    bound: dict[str, list[float]] = {s: [] for s in setups}
    seq: dict[str, list[float]] = {s: [] for s in setups}
    cpu: dict[str, list[float]] = {s: [] for s in setups}
    floor: list[float] = []
    ctx = multiprocessing.get_context("spawn")
    pipes: dict[str, Connection] = {}
    ports: dict[str, int] = {}
    processes = []
    for setup, path in (("served", folder / f"fleet-{args.ecus}.toml"),
                        ("ethernet", on_ethernet)):
        if setup in setups:
            pipes[setup], child = ctx.Pipe()
            processes.append(ctx.Process(target=serve, args=(str(path), home, child),
                                         daemon=True))
            processes[-1].start()
            ports[setup] = pipes[setup].recv()

    def served_cpu(setup: str) -> float:
        if setup not in pipes:
            return 0.0
        pipes[setup].send("cpu")
        return float(pipes[setup].recv())

    try:
        for run in range(args.runs):  # interleaved
            for setup in setups:
                v = load_vehicle(on_ethernet) if setup == "ethernet" else vehicle
                for concurrent in (True, False):
                    BUS.busy_s = 0.0
                    before = served_cpu(setup)
                    t, ok, n, chain = one_scan(v, adapter_for(setup, v, ports.get(setup, 0),
                                                              run), concurrent)
                    assert ok == n, f"{setup} scan: only {ok}/{n} ECUs answered"
                    (conc if concurrent else seq)[setup].append(t)
                    if not concurrent:
                        bound[setup].append(chain)
                    else:
                        cpu[setup].append(served_cpu(setup) - before)
                        if setup == "CAN":
                            floor.append(BUS.busy_s)
            print(f"run {run + 1}: " + "; ".join(
                f"{s} {conc[s][-1]:.2f} s (bound {bound[s][-1]:.2f} s, sequential "
                f"{seq[s][-1]:.2f} s)" for s in setups), flush=True)
    finally:
        for pipe in pipes.values():
            pipe.send(None)
        for process in processes:
            process.join(30)
    print(f"DoIP scan, synthetic {len(vehicle.ecus)} ECUs (20-50 ms latency; on CAN: the "
          f"500 kbit/s bus-rate model), workers {args.workers or 'the scan default'}, "
          f"{args.runs} runs, medians")
    if floor:
        print(f"  bus floor (CAN frames' on-wire time, summed): {statistics.median(floor):.2f} s")
    for s in setups:
        c, b, q = (statistics.median(x[s]) for x in (conc, bound, seq))
        spent = (f"; the served vehicle's CPU during it {statistics.median(cpu[s]):.2f} s"
                 if s in SERVED else "")
        print(f"  {s:10s}: concurrent {c:6.2f} s, bound {b:5.2f} s, concurrent/bound "
              f"{c / b:4.2f} (goal <= 1.5); sequential {q:6.2f} s{spent}")


if __name__ == "__main__":
    main()
