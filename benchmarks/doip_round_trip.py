"""One short UDS request's round trip over DoIP, ours beside doipclient's, on loopback.

Run: python benchmarks/doip_round_trip.py [--runs N] [--requests N] [--before REV]
  (d) doipclient (the quiet client of benchmarks/doip.py): TesterPresent (3E 00) to the
      Ethernet ECU, send_diagnostic (which waits for the gateway's ACK) + receive_diagnostic
  (o) our stack: EcuClient.tester_present over DoipConnection (`--adapter doip`'s path),
      in a tester process of its own, from this tree and, with --before, from REV's
      (exported with `git archive`), interleaved in each run
The simulated vehicle and its gateway run as their own process (`workshop sim serve --doip
--port 0`, a fresh one per measurement); the ECU answers at once (latency 0). Each figure is
the median round trip of --requests requests after 50 unmeasured ones; the table gives the
medians over the runs, and the ratio of each run's own figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.doip import QuietDoIPClient  # noqa: E402
from benchmarks.doip_flash_service import Served, ethernet_vehicle, export  # noqa: E402
from workshop.uds.targets import doip_address  # noqa: E402
from workshop.vehicles import load_vehicle  # noqa: E402

WARM_UP = 50

TESTER = """
import os, statistics, sys, time
sys.path.insert(0, os.getcwd())
from workshop.transport.doip import DoipConnection
from workshop.uds.client import EcuClient, EcuTarget
from workshop.uds.targets import doip_address, link_address
from workshop.vehicles import load_vehicle
vehicle, port, n, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
v = load_vehicle(vehicle)
ecu = next(e for e in v.ecus if e.name == "B0")
target = EcuTarget(ecu.name, link_address(v, ecu), doip_address=doip_address(v, ecu))
times = []
with DoipConnection("127.0.0.1", port, tls_port=None) as doip, EcuClient(doip, target) as c:
    for i in range(warm + n):
        t0 = time.perf_counter()
        c.tester_present()
        times.append(time.perf_counter() - t0)
print(statistics.median(times[warm:]))
"""


def doipclient_round_trip(port: int, address: int, n: int) -> float:
    client = QuietDoIPClient("127.0.0.1", address, tcp_port=port, udp_port=port)
    times = []
    try:
        for _ in range(WARM_UP + n):
            t0 = time.perf_counter()
            client.send_diagnostic(b"\x3e\x00")
            answer = client.receive_diagnostic(timeout=5)
            times.append(time.perf_counter() - t0)
            assert answer == b"\x7e\x00", answer
    finally:
        client.close()
    return statistics.median(times[WARM_UP:])


def ours_round_trip(tree: Path, vehicle: Path, port: int, n: int) -> float:
    out = subprocess.run([sys.executable, "-c", TESTER, str(vehicle), str(port), str(n),
                          str(WARM_UP)], cwd=tree, capture_output=True, text=True,
                         timeout=300, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the tester from {tree} failed:\n{out.stderr[-3000:]}")
    return float(out.stdout.split()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--before", metavar="REV", help="also measure the tester code of REV")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ["WORKSHOP_HOME"] = str(tmp / "home")
        vehicle = ethernet_vehicle(tmp, 1 << 20)
        v = load_vehicle(vehicle)
        address = doip_address(v, next(e for e in v.ecus if e.name == "B0"))
        trees = {"now": ROOT}
        if args.before:
            trees = {"before": export(args.before, tmp), "now": ROOT}
        figures: dict[str, list[float]] = {"doipclient": [], **{k: [] for k in trees}}
        for run in range(args.runs):
            for name in figures:
                served = Served(vehicle)
                try:
                    figures[name].append(
                        doipclient_round_trip(served.port, address, args.requests)
                        if name == "doipclient" else
                        ours_round_trip(trees[name], vehicle, served.port, args.requests))
                finally:
                    served.close()
            print(f"run {run + 1}: " + ", ".join(f"{k} {x[-1] * 1e6:.0f} us"
                                                 for k, x in figures.items()), flush=True)
    d = figures["doipclient"]
    print(f"TesterPresent round trip over DoIP on loopback, median of {args.requests} "
          f"requests per run, {args.runs} runs:")
    print(f"  (d) doipclient: {statistics.median(d) * 1e6:.0f} us")
    for name in trees:
        o = figures[name]
        label = "this tree" if name == "now" else args.before
        own = statistics.median(x / y for x, y in zip(o, d, strict=True))
        print(f"  (o) EcuClient over DoipConnection ({label}): {statistics.median(o) * 1e6:.0f}"
              f" us, {own:.2f}x doipclient's (median of the runs' own ratios)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
