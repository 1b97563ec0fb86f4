"""DoIP benchmark on loopback: doipclient's own diagnostic-message throughput against the
simulated gateway, our flash download to the gateway's Ethernet ECU, and the same image's
time over the 500 kbit/s CAN bus model.

Run: python benchmarks/doip.py [--runs N] [--mib N] [--can-kib N]
  (a) doipclient (DoIPClient.send_diagnostic + receive_diagnostic): 64 KiB diagnostic
      messages to the Ethernet ECU, one at a time, each answered (a short negative
      response, the cheapest answer the ECU server gives): the link's own round trip rate.
      As shipped, doipclient formats every sent payload as hex for a debug log line even
      when logging is off; (a') is the same client with only that line left out (its
      packing, socket writes and parser unchanged); (l) our DoipConnection link with the
      same messages; (t) that quiet doipclient sending the image's TransferData blocks
      into a real download (the ECU writes them; session, security, erase and
      RequestDownload done before, untimed): the ceiling the flash's ratio is taken against
  (b) our stack: DoipConnection + EcuClient + the flash's download step
      (workshop.flash.transfer.download: RequestDownload, TransferData in the ECU's
      maxNumberOfBlockLength from its 0x34 answer, RequestTransferExit) of an N MiB image,
      after programming session, security access, fingerprint and erase (not timed),
      timed to the last block's answer as (t) is (the simulated ECU saves its bank to disk
      at RequestTransferExit); the ECU writes instantly (write time excluded, as in
      benchmarks/flash.py)
  (c) the flash of a smaller image (--can-kib) to a CAN ECU on the 500 kbit/s bus model
      through the whole flash service, its download step timed; the N MiB image's time is
      computed from that rate (the full transfer would take about 10 minutes)
The gateway and its ECUs run in a process of their own, as a real gateway is another
machine. Each run measures all of them side by side, (a'), (l), (t) and (b) --reps times in turn
(each takes a fraction of a second); figures are medians over all runs and repetitions.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from doipclient import DoIPClient  # noqa: E402

from benchmarks.flash import BASE, flash, package, vehicle_toml  # noqa: E402
from workshop.flash.codec import address_length  # noqa: E402
from workshop.flash.transfer import download  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.simulator.doip_ecu import DoipNativeEcu, ethernet_definition  # noqa: E402
from workshop.simulator.doip_gateway import DoipGateway  # noqa: E402
from workshop.simulator.state import reset_state  # noqa: E402
from workshop.transport.adapters import AdapterConfig  # noqa: E402
from workshop.transport.doip import DoipConnection  # noqa: E402
from workshop.uds.client import EcuClient, EcuTarget  # noqa: E402
from workshop.uds.targets import link_address  # noqa: E402
from workshop.vehicles import EcuDefinition, load_vehicle  # noqa: E402
from workshop.vehicles.definition import MemoryRange  # noqa: E402

ADDRESS = 0x1100
MESSAGE = 0xFFFF  # the largest diagnostic message the gateway takes
MIB = 1024 * 1024


def headunit(vehicle: Path, size: int) -> EcuDefinition:
    base = load_vehicle(vehicle).ecus[0]
    definition = dataclasses.replace(
        ethernet_definition(base, "HEADUNIT"), latency_ms=(0.0, 0.0),
        memory=(MemoryRange(BASE, size),))
    return dataclasses.replace(definition, flash=dataclasses.replace(definition.flash,
                                                                     banks="single"))


def serve(vehicle: str, size: int, home: str, pipe: Connection) -> None:
    """The simulated vehicle, its gateway and the Ethernet ECU, in a process of their own
    (as a real gateway is another machine): the tester's threads and the simulator's do
    not share one interpreter lock."""
    os.environ["WORKSHOP_HOME"] = home
    adapter = AdapterConfig(channel=f"doip-bench-{uuid.uuid4()}")
    with VehicleConnection(adapter, load_vehicle(Path(vehicle))) as conn:
        assert conn.simulator is not None
        ecu = DoipNativeEcu(headunit(Path(vehicle), size), conn.simulator.store)
        gateway = DoipGateway(conn.simulator, announce_port=None)
        gateway.attach(ecu, ADDRESS)
        ecu.start()
        try:
            with gateway:
                pipe.send(gateway.port)
                while (digest := pipe.recv()) is not None:  # what the ECU holds, checked
                    region = ecu.definition.memory[0]
                    held = ecu.flash.banks[ecu.flash.target].read(region.start, size)
                    pipe.send(hashlib.sha256(held).hexdigest() == digest)
        finally:
            ecu.stop()


class Bench:
    def __init__(self, vehicle: Path, size: int) -> None:
        self.definition = headunit(vehicle, size)
        v = load_vehicle(vehicle)
        self.target = EcuTarget("HEADUNIT", link_address(v, v.ecus[0]),
                                seed_key=self.definition.seed_key, doip_address=ADDRESS)
        self._pipe, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=serve, args=(str(vehicle), size, os.environ["WORKSHOP_HOME"], child),
            daemon=True)
        self._process.start()
        self.port: int = self._pipe.recv()

    def holds(self, image: bytes) -> bool:
        self._pipe.send(hashlib.sha256(image).hexdigest())
        return bool(self._pipe.recv())

    def close(self) -> None:
        self._pipe.send(None)
        self._process.join(30)


class QuietDoIPClient(DoIPClient):  # type: ignore[misc]
    """doipclient's send path without its eager hex debug line (TCP only)."""

    def send_doip(self, payload_type: int, payload_data: bytes, *_args: object,
                  **_kwargs: object) -> None:
        self._tcp_sock.sendall(self._pack_doip(self._protocol_version, payload_type,
                                               payload_data))


def raw_doipclient_bps(port: int, total: int, *, quiet: bool = False,
                       target: int = ADDRESS) -> float:
    kind = QuietDoIPClient if quiet else DoIPClient
    client = kind("127.0.0.1", target, tcp_port=port, udp_port=port)
    message = bytes([0x36, 0x01]) + os.urandom(MESSAGE - 2)
    try:
        sent = 0
        t0 = time.perf_counter()
        while sent < total:
            client.send_diagnostic(message)
            answer = client.receive_diagnostic(timeout=5)
            assert answer is not None and answer[:1] == b"\x7f", answer
            sent += len(message)
        return sent / (time.perf_counter() - t0)
    finally:
        client.close()


def prepare(client: EcuClient, definition: EcuDefinition) -> None:
    """What a flash does before its download: session, security, fingerprint, erase."""
    profile = definition.flash
    region = definition.memory[0]
    client.change_session(profile.extended_session)
    client.change_session(profile.programming_session)
    client.unlock(profile.security_level, profile.seed_key)
    client.write_did(profile.fingerprint_did, b"DOIP-BENCH")
    client.routine(profile.erase.id, 1, address_length(
        profile.address_and_length_format, region.start, region.length), timeout_s=60)


def our_link_bps(port: int, total: int) -> float:
    message = bytes([0x36, 0x01]) + os.urandom(MESSAGE - 2)
    with DoipConnection("127.0.0.1", port) as doip:
        link = doip.link(ADDRESS)
        sent = 0
        t0 = time.perf_counter()
        while sent < total:
            link.send_confirmed(message)
            answer = link.recv(block=True, timeout=5)
            assert answer is not None and answer[:1] == b"\x7f", answer
            sent += len(message)
        return sent / (time.perf_counter() - t0)


def doipclient_download_bps(bench: Bench, image: bytes) -> float:
    profile = bench.definition.flash
    address = bench.definition.memory[0].start
    with (DoipConnection("127.0.0.1", bench.port) as doip,
          EcuClient(doip, bench.target) as client):
        prepare(client, bench.definition)
        length = client.request_download(0x00, profile.address_and_length_format, address,
                                          len(image))
    # closed: no keep-alive of ours meets doipclient's blocks; the session lasts (S3)
    raw = QuietDoIPClient("127.0.0.1", ADDRESS, tcp_port=bench.port, udp_port=bench.port)
    per, counter = length - 2, 1
    try:
        t0 = time.perf_counter()
        for at in range(0, len(image), per):
            raw.send_diagnostic(bytes([0x36, counter]) + image[at:at + per])
            answer = raw.receive_diagnostic(timeout=5)
            assert answer is not None and answer[:1] == b"\x76", answer
            counter = (counter + 1) & 0xFF
        seconds = time.perf_counter() - t0
        raw.send_diagnostic(b"\x37")
        answer = raw.receive_diagnostic(timeout=5)
        assert answer is not None and answer[:1] == b"\x77", answer
    finally:
        raw.close()
    assert bench.holds(image)
    return len(image) / seconds


def our_download_bps(bench: Bench, image: bytes) -> tuple[float, int]:
    with (DoipConnection("127.0.0.1", bench.port) as doip,
          EcuClient(doip, bench.target) as client):
        prepare(client, bench.definition)
        last = [0.0]
        t0 = time.perf_counter()
        block = download(client, bench.definition.flash, data_format=0x00,
                         address=bench.definition.memory[0].start, image_size=len(image),
                         data=image, on_block=lambda _n: last.__setitem__(0, time.perf_counter()))
        # to the last block's answer, as (t): RequestTransferExit makes the simulated ECU
        # save its bank to disk (fsync), the simulator's cost, not the link's
        seconds = last[0] - t0
    assert bench.holds(image)
    return len(image) / seconds, block


def can_bps(tmp: Path, size: int) -> float:
    veh = vehicle_toml(tmp)
    pkg = package(tmp, "2.0.0", ["B0"], size=size)
    reset_state("bench")
    return size / flash(veh, pkg, rate=True)[1].download_s("B0")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=16, help="image size of (b) and (t)")
    ap.add_argument("--shipped-mib", type=int, default=2,
                    help="data sent by doipclient as shipped in (a) (about 1 MB/s)")
    ap.add_argument("--can-kib", type=int, default=256, help="image measured in (c)")
    ap.add_argument("--reps", type=int, default=3, help="(a'), (l), (t), (b) per run")
    args = ap.parse_args()
    size = args.mib * MIB
    figures: dict[str, list[float]] = {k: [] for k in ("a", "q", "l", "t", "b", "c")}
    blocks = set()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ["WORKSHOP_HOME"] = str(tmp / "home")
        veh = vehicle_toml(tmp)
        image = os.urandom(size)
        for run in range(args.runs):
            reset_state("bench")
            bench = Bench(veh, size)
            try:
                figures["a"].append(raw_doipclient_bps(bench.port, args.shipped_mib * MIB))
                for _ in range(args.reps):
                    figures["q"].append(raw_doipclient_bps(bench.port, size, quiet=True))
                    figures["l"].append(our_link_bps(bench.port, size))
                    figures["t"].append(doipclient_download_bps(bench, image))
                    bps, block = our_download_bps(bench, image)
                    figures["b"].append(bps)
                    blocks.add(block)
            finally:
                bench.close()
            figures["c"].append(can_bps(tmp, args.can_kib * 1024))
            print(f"run {run + 1}: " + ", ".join(
                f"{k} {statistics.median(v[-args.reps:] if k in 'qltb' else v[-1:]) / 1e6:.2f}"
                " MB/s" for k, v in figures.items()), flush=True)
    a, q, link, t, b, c = (statistics.median(figures[k]) for k in "aqltbc")
    print(f"(a)  doipclient as shipped, 64 KiB messages, each answered: {a / 1e6:6.1f} MB/s")
    print(f"(a') doipclient without its eager hex debug line:           {q / 1e6:6.1f} MB/s")
    print(f"(l)  our DoipConnection link, the same messages:            {link / 1e6:6.1f} MB/s "
          f"({link / q:.2f} of (a'))")
    print(f"(t)  (a') sending the {args.mib} MiB image's TransferData blocks:   "
          f"{t / 1e6:6.1f} MB/s")
    print(f"(b)  our flash download step, {args.mib} MiB, blocks of "
          f"{', '.join(str(x) for x in sorted(blocks))} bytes: {b / 1e6:.1f} MB/s, "
          f"{size / b:.2f} s; ratio to (t) {b / t:.2f} (goal >= 0.8), to (a') {b / q:.2f}")
    print(f"(c)  CAN 500 kbit/s bus model: {c / 1e3:.1f} kB/s measured on {args.can_kib} KiB; "
          f"{args.mib} MiB would take {size / c:.0f} s ({size / c / 60:.1f} min): "
          f"{b / c:.0f}x the time of (b)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
