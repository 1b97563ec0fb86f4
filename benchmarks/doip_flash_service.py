"""The whole flash service over DoIP, like for like with doipclient's own raw rate: a 16 MiB
image to an Ethernet ECU (`ethernet = true`) behind the simulated gateway, which runs as its
own process (`workshop sim serve --doip --port 0`, as a real gateway is another machine) for
every measurement.

Run: python benchmarks/doip_flash_service.py [--runs N] [--mib N] [--before REV]
  (s) prepare_flash + run_flash (verify, plan, session, security, fingerprint, erase,
      download in the ECU's 64 KiB blocks, check, reset, confirm) through
      `--adapter doip --host 127.0.0.1 --port N` (VehicleConnection's DoIP mode: a TCP
      connection to the served gateway), in a tester process of its own. Timed from the
      flash's own events: "blocks" from the download step's start (RequestDownload) to the
      last TransferData block's confirmation, beside the whole step, whose
      RequestTransferExit makes the simulated ECU save its 32 MiB bank to disk (its state
      file, with fsync: the simulator's cost, not the link's). The ECU writes instantly
      (write time excluded, as in benchmarks/flash.py). The connection is labelled
      simulated once open, so the flash takes the demo trust store and demo audit signer
      as `sim-doip` does (the benchmark's package is demo-signed; both are per flash, not
      per block).
  (a') benchmarks/doip.py's quiet doipclient: 64 KiB diagnostic messages to the same ECU,
      each answered, from this process, to the same served gateway.
  (t) that quiet doipclient sending the image's TransferData blocks into a real download
      of the same ECU (session, security, fingerprint, erase and RequestDownload done
      before by our client, untimed): doipclient's own throughput with the flash's own
      diagnostic messages, the reference of the >= 0.8 goal; (s)/(t) is the tester's share.
  --before REV: (s) also with the tester code of git revision REV (exported with
      `git archive` to a temporary folder), interleaved with this tree's: before/after
      side by side in one run. The served gateway is always this tree's.
Each run starts a fresh served gateway per flash (the simulated ECU's state reset); figures
are medians over the runs.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.doip import MIB, QuietDoIPClient, prepare, raw_doipclient_bps  # noqa: E402
from benchmarks.flash import package, vehicle_toml  # noqa: E402
from workshop.simulator.state import reset_state  # noqa: E402
from workshop.transport.doip import DoipConnection  # noqa: E402
from workshop.uds.client import EcuClient, EcuTarget  # noqa: E402
from workshop.uds.targets import doip_address, link_address  # noqa: E402
from workshop.vehicles import EcuDefinition, VehicleDefinition, load_vehicle  # noqa: E402

CLI = "import sys; from workshop.cli import main; sys.exit(main())"

# The tester, run from a code tree (this one or --before's) in a process of its own; it
# prints the seconds of the download's blocks (the step's start to the last block's
# confirmation, as (a') has no RequestTransferExit), of the whole download step, and of the
# whole flash.
TESTER = """
import dataclasses, logging, os, sys, time
sys.path.insert(0, os.getcwd())
from workshop.foundation.events import EcuStep
from workshop.flash.events import FlashProgress
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.transport.adapters import DOIP, SIM_DOIP, AdapterConfig
from workshop.vehicles import load_vehicle
logging.getLogger("UdsClient").setLevel(logging.CRITICAL)
vehicle, pkg, port, ecu = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
marks = {}
def clock(event):
    if isinstance(event, EcuStep) and event.ecu == ecu:
        marks.setdefault(event.step.split()[0], time.perf_counter())
    elif (isinstance(event, FlashProgress) and event.ecu == ecu
          and event.step.startswith("download") and event.done == event.total):
        marks["blocks"] = time.perf_counter()
adapter = AdapterConfig(interface=DOIP, host="127.0.0.1", port=port)
with VehicleConnection(adapter, load_vehicle(vehicle)) as conn:
    conn.adapter = dataclasses.replace(adapter, interface=SIM_DOIP)
    prep = prepare_flash(conn, pkg, overrides={"rollback": "benchmark",
                                               "baseline": "benchmark"})
    assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
    t0 = time.perf_counter()
    result = run_flash(conn, prep, events=clock)
    total = time.perf_counter() - t0
assert result.ok, result.ecus
print(marks["blocks"] - marks["download"], marks["check"] - marks["download"], total)
"""


def ethernet_vehicle(folder: Path, size: int) -> Path:
    """benchmarks/flash.py's bench vehicle, its ECU B0 on Ethernet with room for the image."""
    path = vehicle_toml(folder, banks="single")
    text = path.read_text().replace("length = 0x200000", f"length = 0x{max(size * 2, 1 << 21):X}")
    text = text.replace('response_id = 0x708\nseed_key = "demo-xor"',
                        'response_id = 0x708\nseed_key = "demo-xor"\nethernet = true')
    assert "ethernet = true" in text
    path.write_text(text)
    return path


class Served:
    """`workshop sim serve --doip --port 0` of this tree, as a process of its own."""

    def __init__(self, vehicle: Path) -> None:
        reset_state("bench")  # a fresh ECU: installed 1.0.0
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI, "--vehicle", str(vehicle), "sim", "serve", "--doip",
             "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"port (\d+)", line)
        if found is None:
            self.close()
            raise SystemExit(f"sim serve did not start: {line!r}")
        self.port = int(found.group(1))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def flash_service(tree: Path, vehicle: Path, pkg: Path, size: int
                  ) -> tuple[float, float, float]:
    """(blocks bytes/s, download step bytes/s, whole run_flash s) of the tester in `tree`."""
    served = Served(vehicle)
    try:
        out = subprocess.run([sys.executable, "-c", TESTER, str(vehicle), str(pkg),
                              str(served.port), "B0"], cwd=tree, capture_output=True,
                             text=True, timeout=600, check=False)
    finally:
        served.close()
    if out.returncode != 0:
        raise SystemExit(f"the flash from {tree} failed:\n{out.stderr[-3000:]}")
    blocks_s, download_s, total = (float(x) for x in out.stdout.split()[-3:])
    return size / blocks_s, size / download_s, total


def doipclient_download_bps(vehicle: Path, v: VehicleDefinition, ecu: EcuDefinition,
                            image: bytes) -> float:
    """(t): doipclient's TransferData blocks into a real download, bytes/s."""
    address = doip_address(v, ecu)
    target = EcuTarget(ecu.name, link_address(v, ecu), seed_key=ecu.seed_key,
                       doip_address=address)
    served = Served(vehicle)
    try:
        with (DoipConnection("127.0.0.1", served.port) as doip,
              EcuClient(doip, target) as client):
            prepare(client, ecu)
            length = client.request_download(0x00, ecu.flash.address_and_length_format,
                                              ecu.memory[0].start, len(image))
        raw = QuietDoIPClient("127.0.0.1", address, tcp_port=served.port,
                              udp_port=served.port)
        per, counter = length - 2, 1
        try:
            t0 = time.perf_counter()
            for at in range(0, len(image), per):
                raw.send_diagnostic(bytes([0x36, counter]) + image[at:at + per])
                answer = raw.receive_diagnostic(timeout=5)
                assert answer is not None and answer[:1] == b"\x76", answer
                counter = (counter + 1) & 0xFF
            return len(image) / (time.perf_counter() - t0)
        finally:
            raw.close()
    finally:
        served.close()


def export(rev: str, folder: Path) -> Path:
    tree = folder / f"tree-{rev.replace('/', '_')}"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", rev, "workshop"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=16)
    ap.add_argument("--before", metavar="REV", help="also measure the tester code of REV")
    args = ap.parse_args()
    size = args.mib * MIB
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ["WORKSHOP_HOME"] = str(tmp / "home")
        vehicle = ethernet_vehicle(tmp, size)
        v = load_vehicle(vehicle)
        b0 = next(e for e in v.ecus if e.name == "B0")
        address = doip_address(v, b0)
        image = os.urandom(size)
        pkg = package(tmp, "2.0.0", ["B0"], size=size)
        trees = {"now": ROOT}
        if args.before:
            trees = {"before": export(args.before, tmp), "now": ROOT}
        service: dict[str, list[float]] = {k: [] for k in trees}
        steps: dict[str, list[float]] = {k: [] for k in trees}
        totals: dict[str, list[float]] = {k: [] for k in trees}
        raw: list[float] = []
        real: list[float] = []
        for run in range(args.runs):
            served = Served(vehicle)
            try:
                raw.append(raw_doipclient_bps(served.port, size, quiet=True, target=address))
            finally:
                served.close()
            real.append(doipclient_download_bps(vehicle, v, b0, image))
            line = [f"run {run + 1}: (a') {raw[-1] / 1e6:.1f} MB/s, (t) {real[-1] / 1e6:.1f} MB/s"]
            for name, tree in trees.items():
                bps, step, total = flash_service(tree, vehicle, pkg, size)
                service[name].append(bps)
                steps[name].append(step)
                totals[name].append(total)
                line.append(f"(s, {name}) blocks {bps / 1e6:.1f} MB/s, step {step / 1e6:.1f}"
                            f" MB/s, flash {total:.2f} s")
            print("; ".join(line), flush=True)
    a, rt = statistics.median(raw), statistics.median(real)
    print(f"(a') doipclient raw, 64 KiB messages each answered: {a / 1e6:.1f} MB/s")
    print(f"(t)  doipclient's TransferData blocks into a real download: {rt / 1e6:.1f} MB/s "
          f"({rt / a:.2f} of (a'))")
    for name in trees:
        s, t = statistics.median(service[name]), statistics.median(totals[name])
        d = statistics.median(steps[name])
        label = "this tree" if name == "now" else f"{args.before}"
        per_run_a = statistics.median(x / y for x, y in zip(service[name], raw, strict=True))
        per_run_t = statistics.median(x / y for x, y in zip(service[name], real, strict=True))
        print(f"(s)  flash service over --adapter doip ({label}), {args.mib} MiB to the "
              f"Ethernet ECU: blocks {s / 1e6:.1f} MB/s ({size / s:.2f} s), (s)/(t) "
              f"{s / rt:.2f} (median of the runs' own ratios {per_run_t:.2f}; goal >= 0.8), "
              f"(s)/(a') {s / a:.2f} ({per_run_a:.2f}); download step with RequestTransferExit "
              f"{d / 1e6:.1f} MB/s ({size / d:.2f} s); whole flash {t:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
