"""The whole flash service over DoIP: a 16 MiB image to an Ethernet ECU (`ethernet = true`)
behind the simulated gateway (`sim-doip`), beside doipclient's own raw rate.

Run: python benchmarks/doip_flash_service.py [--runs N] [--mib N]
  (s) prepare_flash + run_flash (verify, plan, session, security, fingerprint, erase,
      download in the ECU's 64 KiB blocks, check, reset, confirm) over `sim-doip`, as the
      CLI's `--adapter sim-doip flash` does; the download step is timed from the flash's
      own step events, the ECU writes instantly (write time excluded, as in
      benchmarks/flash.py). The gateway runs in the tester's process here (as sim-doip
      does), so the ECU, the gateway and the tester share one interpreter lock.
  (a') benchmarks/doip.py's quiet doipclient: 64 KiB diagnostic messages, each answered,
      to its gateway in a process of its own, measured in the same run.
Figures are medians over the runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.doip import MIB, Bench, raw_doipclient_bps  # noqa: E402
from benchmarks.flash import StepClock, package, vehicle_toml  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.services.flash import prepare_flash, run_flash  # noqa: E402
from workshop.simulator.state import reset_state  # noqa: E402
from workshop.transport.adapters import SIM_DOIP, AdapterConfig  # noqa: E402
from workshop.vehicles import load_vehicle  # noqa: E402

OVERRIDES = {"rollback": "benchmark", "baseline": "benchmark"}


def ethernet_vehicle(folder: Path, size: int) -> Path:
    """benchmarks/flash.py's bench vehicle, its ECU B0 on Ethernet with room for the image."""
    path = vehicle_toml(folder, banks="single")
    text = path.read_text().replace("length = 0x200000", f"length = 0x{max(size * 2, 1 << 21):X}")
    text = text.replace('response_id = 0x708\nseed_key = "demo-xor"',
                        'response_id = 0x708\nseed_key = "demo-xor"\nethernet = true')
    assert "ethernet = true" in text
    path.write_text(text)
    return path


def flash_service_bps(vehicle: Path, pkg: Path, size: int) -> tuple[float, float]:
    """(download step bytes/s, whole run_flash s)."""
    reset_state("bench")
    clock = StepClock()
    adapter = AdapterConfig(interface=SIM_DOIP, channel=f"bench-{uuid.uuid4()}")
    with VehicleConnection(adapter, load_vehicle(vehicle)) as conn:
        prep = prepare_flash(conn, pkg, overrides=OVERRIDES)
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        t0 = time.perf_counter()
        result = run_flash(conn, prep, events=clock)
        total = time.perf_counter() - t0
    assert result.ok, result.ecus
    return size / clock.download_s("B0"), total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=16)
    args = ap.parse_args()
    logging.getLogger("UdsClient").setLevel(logging.CRITICAL)  # absent DIDs: NRC 0x31
    size = args.mib * MIB
    service, totals, raw = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ["WORKSHOP_HOME"] = str(tmp / "home")
        vehicle = ethernet_vehicle(tmp, size)
        pkg = package(tmp, "2.0.0", ["B0"], size=size)
        for run in range(args.runs):
            bps, total = flash_service_bps(vehicle, pkg, size)
            service.append(bps)
            totals.append(total)
            reset_state("bench")
            bench = Bench(vehicle_toml(tmp), size)
            try:
                raw.append(raw_doipclient_bps(bench.port, size, quiet=True))
            finally:
                bench.close()
            print(f"run {run + 1}: (s) {bps / 1e6:.1f} MB/s download, {total:.1f} s flash; "
                  f"(a') {raw[-1] / 1e6:.1f} MB/s", flush=True)
    s, a, t = statistics.median(service), statistics.median(raw), statistics.median(totals)
    print(f"(s)  flash service over sim-doip, {args.mib} MiB to the Ethernet ECU: download "
          f"{s / 1e6:.1f} MB/s ({size / s:.2f} s), whole flash {t:.1f} s")
    print(f"(a') doipclient raw, 64 KiB messages each answered: {a / 1e6:.1f} MB/s; "
          f"(s)/(a') {s / a:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
