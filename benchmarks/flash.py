"""Reflash benchmark: throughput against the bus, transfer modes, parallel ECUs, and a
straightforward udsoncan/can-isotp flasher, all over the real stack on the simulator.

Run: python benchmarks/flash.py [--quick] [--runs N] [--parallel-runs N] [--parts abcde]
  (a) untimed virtual bus, 1 MiB plain: flash throughput vs raw ISO-TP throughput
  (b) bus-rate model, 500 kbit/s classic and 500k/2M CAN FD: payload vs the true ISO-TP
      ceiling for that data (every frame's own stuff bits), beside a perfect sender on the
      wire model and a bare can-isotp link
  (c) compressed and delta vs plain on consecutive real firmware releases (bus time)
  (d) 4 independent ECUs on one 500 kbit/s bus: parallel vs sequence vs both lower bounds
      (the wire: all images at the ceiling; the slowest ECU flashed alone), then
      --parallel-runs parallel flashes counted for failures (goal: none)
  (e) ours vs a straightforward flasher (udsoncan + can-isotp defaults), same bus and image
ECU write time is excluded (the simulated ECU writes instantly) except in (d). Each figure
is the median of --runs runs; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import can

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.naive_flasher import naive_flash  # noqa: E402
from workshop.foundation.events import EcuStep, Event  # noqa: E402
from workshop.packages.build import build_package  # noqa: E402
from workshop.packages.verify import open_verified  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.services.flash import prepare_flash, run_flash  # noqa: E402
from workshop.services.trust_policy import trust_store  # noqa: E402
from workshop.simulator.state import reset_state  # noqa: E402
from workshop.transport.adapters import AdapterConfig, open_bus  # noqa: E402
from workshop.transport.busrate import (  # noqa: E402
    BusRateModel,
    isotp_ceiling_bps,
    isotp_frames,
)
from workshop.transport.isotp_link import LinkAddress, LinkParams, open_link  # noqa: E402
from workshop.transport.router import BusEndpoint  # noqa: E402
from workshop.trust.demo import demo_signer  # noqa: E402
from workshop.vehicles import load_vehicle  # noqa: E402

FIRMWARE = ROOT.parent / "shared" / "data" / "firmware" / "microbit-micropython"
RELEASES = ["microbit-micropython_v1.0-pre-43f3a62_2018-03-07.bin",
            "microbit-micropython_v1.0.0-beta.1_2018-07-09.bin",
            "microbit-micropython_v1.0.1_2018-12-13.bin"]
OVERRIDES = {"baseline": "benchmark", "version": "benchmark", "rollback": "benchmark"}
BASE = 0x08000000
DESCRIPTOR_AT = 0x0807F000
INSTANT = "write_bytes_per_s = 1e12\nerase_ms_per_sector = 0.001"
# The simulated bootloader's maxNumberOfBlockLength (SID and counter included).
BLOCK = {False: 4095, True: 16386}


def vehicle_toml(folder: Path, n: int = 1, *, fd: bool = False, latency: str = "[0, 0]",
                 profile: str = INSTANT, banks: str = "ab") -> Path:
    lines = ['name = "bench"', 'model = "Bench"', 'vin = "WDXDEMC12RA000001"', "",
             "[bus]", "bitrate = 500000", 'addressing = "normal_11bit"',
             "functional_id = 0x7DF", f"latency_ms = {latency}", "", "[flash]",
             f'banks = "{banks}"', "security_level = 0x11", 'seed_key = "demo-xor"',
             "data_formats = { plain = 0x00, lz4 = 0x10, bsdiff4 = 0x20 }",
             "sector_size = 4096", profile, ""]
    for i in range(n):
        lines += ["[[ecus]]", f'name = "B{i}"', f"request_id = 0x{0x700 + i:X}",
                  f"response_id = 0x{0x708 + i:X}", 'seed_key = "demo-xor"',
                  f"fd = {'true' if fd else 'false'}", "",
                  "[[ecus.memory]]", f"start = 0x{BASE:X}", "length = 0x200000", "",
                  "[ecus.identification]", 'F189 = "1.0.0"', f'F191 = "HW-B{i}"', ""]
    path = folder / f"bench-{uuid.uuid4().hex[:8]}.toml"
    path.write_text("\n".join(lines))
    return path


def package(folder: Path, version: str, ecus: list[str], *, size: int = 0,
            firmware: Path | None = None, delta_from: Path | None = None) -> Path:
    lines = ["[package]", f'id = "bench-{version}-{uuid.uuid4().hex[:6]}"',
             f'version = "{version}"', 'vehicle_models = ["bench"]', ""]
    for name in ecus:
        lines += ["[[ecu]]", f'name = "{name}"', f"address = 0x{0x700 + int(name[1:]):X}",
                  f'hardware_part_numbers = ["HW-{name}"]', 'from_versions = ["1.0.0"]',
                  f'new_version = "{version}"', "security_version = 1", "",
                  "[[ecu.region]]", f"address = 0x{BASE:X}"]
        if firmware is not None:
            lines += [f'file = "{firmware}"', f"load_address = 0x{BASE:X}", "",
                      "[[ecu.region]]", f"address = 0x{DESCRIPTOR_AT:X}", "descriptor = true"]
        else:
            lines += [f"generate_size = {size}"]
        lines.append("")
    spec = folder / f"spec-{uuid.uuid4().hex[:8]}.toml"
    spec.write_text("\n".join(lines))
    out = folder / f"{spec.stem}.wspkg"
    build_package(spec, out, demo_signer(), delta_from=delta_from)
    return out


class StepClock:
    """Timestamps of each ECU's steps, from the flash's own events."""

    def __init__(self) -> None:
        self.marks: dict[tuple[str, str], float] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, EcuStep):
            self.marks[(event.ecu, event.step)] = time.perf_counter()

    def download_s(self, ecu: str) -> float:
        start = next(t for (e, s), t in self.marks.items() if e == ecu and
                     s.startswith("download"))
        end = next(t for (e, s), t in self.marks.items() if e == ecu and
                   s.startswith("check memory"))
        return end - start


def flash_once(vehicle: Path, pkg: Path, *, mode: str = "plain", rate: bool = False,
               fd: bool = False, only: list[str] | None = None
               ) -> tuple[float, StepClock, object]:
    v = load_vehicle(vehicle)
    adapter = AdapterConfig(channel=f"bench-{uuid.uuid4()}", rate_model=rate, fd=fd,
                            data_bitrate=2_000_000 if fd else None)
    clock = StepClock()
    with VehicleConnection(adapter, v) as conn:
        prep = prepare_flash(conn, pkg, mode=mode, only=only, overrides=OVERRIDES)
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        t0 = time.perf_counter()
        result = run_flash(conn, prep, events=clock)
        total = time.perf_counter() - t0
    return total, clock, result


def flash(vehicle: Path, pkg: Path, *, mode: str = "plain", rate: bool = False,
          fd: bool = False, only: list[str] | None = None) -> tuple[float, StepClock, object]:
    total, clock, result = flash_once(vehicle, pkg, mode=mode, rate=rate, fd=fd, only=only)
    bad = [o for o in result.ecus if o.outcome != "success"]  # type: ignore[attr-defined]
    assert not bad, bad
    return total, clock, result


def image_of(pkg: Path, ecu: str) -> bytes:
    p = open_verified(pkg, trust_store(AdapterConfig(), None))
    return p.region_image(p.manifest.ecu(ecu).regions[0])


def transfer_ceiling_bps(model: BusRateModel, image: bytes, *, fd: bool, ecu: int = 0) -> float:
    """Image bytes per second if every TransferData message of it (36, counter, data, in
    the ECU's block length) crossed the bus at the ISO-TP ceiling for its own bytes."""
    chunk, seconds = BLOCK[fd] - 2, 0.0
    for i, at in enumerate(range(0, len(image), chunk)):
        msg = bytes([0x36, (i + 1) & 0xFF]) + image[at:at + chunk]
        seconds += len(msg) / isotp_ceiling_bps(model, fd=fd, extended_id=False, data=msg,
                                                tx_id=0x700 + ecu, rx_id=0x708 + ecu)
    return len(image) / seconds


def perfect_sender_bps(data: bytes, *, fd: bool) -> float:
    """The frames of one ISO-TP message (and its flow control) queued on the wire model as
    fast as a sender can, timed to the last frame's arrival: what the wire model allows."""
    adapter = AdapterConfig(channel=f"wire-{uuid.uuid4()}", rate_model=True, fd=fd,
                            data_bitrate=2_000_000 if fd else None)
    tx, rx = open_bus(adapter), open_bus(adapter)
    frames = [can.Message(arbitration_id=0x700, data=f, is_extended_id=False, is_fd=fd,
                          bitrate_switch=fd) for f in isotp_frames(data, fd=fd)]
    frames.insert(1, can.Message(arbitration_id=0x708, data=bytes([0x30, 0, 0]) + bytes(
        [0xCC] * 5), is_extended_id=False, is_fd=fd, bitrate_switch=fd))
    try:
        t0 = time.perf_counter()
        for frame in frames:
            tx.send(frame)
        for _ in frames:
            assert rx.recv(timeout=10) is not None
        return len(data) / (time.perf_counter() - t0)
    finally:
        tx.shutdown()
        rx.shutdown()


RAW_CHUNK = (bytes(range(256)) * 16)[:4095]
# One message as long as a CAN FD block: the wire model's check over more than 23 ms.
FD_CHUNK = (bytes(range(256)) * 64)[:BLOCK[True]]


def raw_isotp_bps(size: int, *, rate: bool, fd: bool = False) -> float:
    """One ISO-TP sender to one receiver on the same kind of bus: the transport's own rate."""
    adapter = AdapterConfig(channel=f"raw-{uuid.uuid4()}", rate_model=rate, fd=fd,
                            data_bitrate=2_000_000 if fd else None)
    tester, ecu = BusEndpoint(open_bus(adapter)), BusEndpoint(open_bus(adapter))
    addr = LinkAddress("normal_11bit", 0x700, 0x708, 0x7DF)
    a = open_link(tester, addr, LinkParams(fd=fd))
    b = open_link(ecu, addr, LinkParams(fd=fd), server=True)
    a.start()
    b.start()
    chunk = RAW_CHUNK
    try:
        t0 = time.perf_counter()
        sent = 0
        while sent < size:
            a.send_confirmed(chunk)
            got = b.recv(block=True, timeout=10)
            assert got is not None and len(got) == len(chunk)
            sent += len(chunk)
        return sent / (time.perf_counter() - t0)
    finally:
        for link in (a, b):
            link.close()
        tester.close()
        ecu.close()


def median(fn: Callable[[], float], runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


def part_a(tmp: Path, runs: int, size: int) -> None:
    veh, pkg = vehicle_toml(tmp), package(tmp, "2.0.0", ["B0"], size=size)
    ours = median(lambda: size / flash(veh, pkg)[1].download_s("B0"), runs)
    raw = median(lambda: raw_isotp_bps(size, rate=False), runs)
    print(f"(a) untimed bus, {size // 1024} KiB plain: flash {ours / 1e3:8.0f} kB/s, raw ISO-TP "
          f"{raw / 1e3:8.0f} kB/s, ratio {ours / raw:.2f} (target >= 0.8)")


def part_b(tmp: Path, runs: int, size: int) -> None:
    for fd, label in ((False, "500 kbit/s classic"), (True, "500k/2 Mbit/s CAN FD")):
        veh = vehicle_toml(tmp, fd=fd)
        pkg = package(tmp, "2.0.0", ["B0"], size=size)
        model = BusRateModel(500_000, 2_000_000 if fd else None)
        ceiling = transfer_ceiling_bps(model, image_of(pkg, "B0"), fd=fd)
        ours, wire, raw = [], [], []
        for _ in range(runs):  # side by side in each run
            ours.append(size / flash(veh, pkg, rate=True, fd=fd)[1].download_s("B0"))
            chunk = FD_CHUNK if fd else RAW_CHUNK
            wire.append(perfect_sender_bps(chunk, fd=fd) / isotp_ceiling_bps(
                model, fd=fd, extended_id=False, data=chunk, tx_id=0x700, rx_id=0x708))
            raw.append(raw_isotp_bps(64 * 1024, rate=True, fd=fd) / isotp_ceiling_bps(
                model, fd=fd, extended_id=False, data=RAW_CHUNK, tx_id=0x700, rx_id=0x708))
        o = statistics.median(ours)
        print(f"(b) {label:<22} {size // 1024} KiB: flash {o / 1e3:6.1f} kB/s payload, true "
              f"ISO-TP ceiling for this image {ceiling / 1e3:6.1f} kB/s: ratio "
              f"{o / ceiling:.2f} (goal >= 0.9); perfect sender on the wire model "
              f"{statistics.median(wire):.3f}, bare can-isotp link "
              f"{statistics.median(raw):.2f} of their ceiling")


def part_c(tmp: Path, runs: int) -> None:
    files = [FIRMWARE / r for r in RELEASES]
    for old_file, new_file in itertools.pairwise(files):
        veh = vehicle_toml(tmp)
        old = package(tmp, "1.0.0-a", ["B0"], firmware=old_file)
        new = package(tmp, "1.0.0-b", ["B0"], firmware=new_file, delta_from=old)
        times = {}
        wire = {}
        for mode in ("plain", "lz4", "bsdiff4"):
            def once(m: str = mode, v: Path = veh, o: Path = old, n: Path = new,
                     w: dict[str, int] = wire) -> float:
                flash(v, o)  # untimed: put the old release back as the delta base
                _, clock, result = flash(v, n, mode=m, rate=True)
                w[m] = result.ecus[0].wire_bytes  # type: ignore[attr-defined]
                return clock.download_s("B0")
            times[mode] = median(once, runs)
        pair = f"{old_file.name[21:40]} -> {new_file.name[21:40]}"
        print(f"(c) {pair}: plain {times['plain']:5.2f} s "
              f"({wire['plain']} B), lz4 {times['lz4']:5.2f} s ({wire['lz4']} B, "
              f"{times['plain'] / times['lz4']:.2f}x less), delta {times['bsdiff4']:5.2f} s "
              f"({wire['bsdiff4']} B, {times['plain'] / times['bsdiff4']:.1f}x less) "
              "(targets 1.5x, 5x)")


def part_d(tmp: Path, runs: int, size: int, parallel_runs: int, parallel_size: int) -> None:
    realistic = "write_bytes_per_s = 40000\nerase_ms_per_sector = 20"
    veh = vehicle_toml(tmp, 4, latency="[1, 3]", profile=realistic)
    names = ["B0", "B1", "B2", "B3"]
    model = BusRateModel()
    par, seq, longest, wire_s = [], [], [], []
    for run in range(runs):
        pkg = package(tmp, f"2.0.{run}", names, size=size)
        total, _clock, result = flash(veh, pkg, rate=True)
        par.append(total)
        wire_s.append(sum(len(image_of(pkg, n)) / transfer_ceiling_bps(
            model, image_of(pkg, n), fd=False, ecu=i) for i, n in enumerate(names)))
        pkg2 = package(tmp, f"3.0.{run}", names, size=size)
        alone = [flash(veh, pkg2, rate=True, only=[n])[0] for n in names]
        seq.append(sum(alone))
        longest.append(max(alone))
    p, s = statistics.median(par), statistics.median(seq)
    wire, slowest = statistics.median(wire_s), statistics.median(longest)
    bound = max(wire, slowest)
    print(f"(d) 4 ECUs x {size // 1024} KiB, 40 kB/s write, 20 ms/sector erase, 500 kbit/s: "
          f"parallel {p:5.1f} s, sequence {s:5.1f} s ({s / p:.2f}x); lower bounds: wire "
          f"{wire:5.1f} s (all images at the ISO-TP ceiling), slowest ECU alone "
          f"{slowest:5.1f} s; parallel/bound {p / bound:.2f} (target <= 1.2)", flush=True)
    failures: list[str] = []
    for run in range(parallel_runs):
        pkg = package(tmp, f"4.0.{run}", names, size=parallel_size)
        _total, _clock, result = flash_once(veh, pkg, rate=True)
        bad = [f"{o.ecu}: {o.outcome} {o.detail}"  # type: ignore[attr-defined]
               for o in result.ecus if o.outcome != "success"]  # type: ignore[attr-defined]
        if bad:
            failures.append(f"run {run + 1}: " + "; ".join(bad))
    print(f"(d) four ECUs x {parallel_size // 1024} KiB in parallel on one 500 kbit/s bus, "
          f"{parallel_runs} runs: {len(failures)} failures (goal 0)")
    for line in failures:
        print(f"    {line}")


def part_e(tmp: Path, runs: int, size: int) -> None:
    veh = vehicle_toml(tmp, latency="[1, 3]")
    pkg = package(tmp, "2.0.0", ["B0"], size=size)
    ours = median(lambda: flash(veh, pkg, rate=True)[1].download_s("B0"), runs)
    definition = load_vehicle(veh)
    image = bytes(range(256)) * (size // 256)

    def naive_once(patient: bool) -> float:
        adapter = AdapterConfig(channel=f"naive-{uuid.uuid4()}", rate_model=True)
        with VehicleConnection(adapter, definition):
            bus = open_bus(adapter)
            try:
                return naive_flash(bus, definition.ecu("B0"), BASE, image, patient=patient)
            finally:
                bus.shutdown()

    try:
        naive_once(False)
        defaults = "completed"
    except Exception as exc:  # udsoncan's own timeout: what its defaults do here
        defaults = f"fails ({type(exc).__name__}: {str(exc)[:60]})"
    naive = median(lambda: naive_once(True), runs)
    print(f"(e) {size // 1024} KiB on 500 kbit/s, download phase: ours {ours:5.2f} s; "
          f"straightforward udsoncan+can-isotp flasher with default settings {defaults}; "
          f"with the usual timing fix {naive:5.2f} s: ours is {naive / ours:.2f}x faster")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller images, one run")
    ap.add_argument("--parts", default="abcde")
    ap.add_argument("--parallel-runs", type=int, default=100,
                    help="(d) parallel flashes counted for failures")
    ap.add_argument("--parallel-kib", type=int, default=16,
                    help="(d) image size per ECU in those runs")
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ["WORKSHOP_HOME"] = str(tmp / "home")
        parts = {"a": lambda: part_a(tmp, runs, (256 if args.quick else 1024) * 1024),
                 "b": lambda: part_b(tmp, runs, (64 if args.quick else 256) * 1024),
                 "c": lambda: part_c(tmp, runs),
                 "d": lambda: part_d(tmp, runs, (32 if args.quick else 64) * 1024,
                                     args.parallel_runs, args.parallel_kib * 1024),
                 "e": lambda: part_e(tmp, runs, (64 if args.quick else 128) * 1024)}
        for key in args.parts:
            reset_state("bench")  # each part starts from the factory ECUs
            parts[key]()
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
