"""Bootloader families benchmark: download and read-out throughput of each family the
simulator implements (VAG-like ECM, PSA-like BSI, 31 03 polling ADAS, all from the shipped
`van` with its profiles), plus the generic single-bank simulated ECU for reference, on the
500 kbit/s classic and the 500k/2M CAN FD bus model, as a ratio of the true ISO-TP ceiling
for that data.

Run: python benchmarks/families.py [--runs N] [--kib 256] [--buses classic,fd] [--families ...]

Per family and bus, each run flashes a --kib random image twice, side by side: once with the
ECU's declared write time (its bootloader answers each TransferData after writing the block),
once with that write time set to zero (which isolates the tester and the transport). Printed:
- download: image bytes / the time of RequestDownload..RequestTransferExit (erase, checks and
  reset not counted); the ceiling: every TransferData message of that image, in the block
  length the ECU granted, at the ISO-TP ceiling for its own bytes (one flow control each);
  the ratio (goal >= 0.9); and the ratio against the ceiling plus the ECU's declared time
  per block: its write time and its mean answer latency (the most that ECU allows);
- read-out, for the families whose profile reads the running image out before writing
  (ADAS: 0x35 RequestUpload, its own convention; the generic ECU: 0x23 ReadMemoryByAddress,
  4094 bytes a request, what one classic ISO-TP answer carries): bytes / the time of the
  read-out transfer, and the ratio against the ceiling of the ECU's answers carrying it.
The classic variant of the van is the shipped definition with `fd` off on the bus and every
ECU; the FD variant turns `fd` on for every ECU (the shipped van runs ECM and BSI classic).
Memory ranges are widened to hold the image. Medians of --runs; the machine is shared, so
read the ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.flash import package as generic_package  # noqa: E402
from benchmarks.flash import vehicle_toml  # noqa: E402
from tests.flash.test_families import package as van_test_package  # noqa: E402
from workshop.flash import ecu_flash, readout  # noqa: E402
from workshop.packages import images  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.services.flash import prepare_flash, run_flash  # noqa: E402
from workshop.simulator.state import reset_state  # noqa: E402
from workshop.transport.adapters import AdapterConfig  # noqa: E402
from workshop.transport.busrate import BusRateModel, isotp_ceiling_bps  # noqa: E402
from workshop.vehicles import load_vehicle  # noqa: E402

# family -> (ECU, logical address, hardware part number, region address)
VAN = {"VAG-like": ("ECM", 0x01, "VN-ECM-HW-100", 0x00020000),
       "PSA-like": ("BSI", 0x40, "VN-BSI-HW-100", 0x00100000),
       "polling": ("ADAS", 0x60, "VN-ADAS-HW-100", 0x08000000)}
GENERIC = "generic"


def widened(text: str, size: int) -> str:
    """The van's memory ranges widened to hold `size` bytes: the erased logical block (VAG)
    or zone (PSA) is as long as the image, so erase time follows the image as in the
    shipped van, whose ranges hold 128 KiB, 64 KiB and 256 KiB."""
    n = -(-size // 0x1000) * 0x1000
    ecm, bsi, adas = max(n, 0x20000), max(n, 0x10000), max(n, 0x40000)
    for old, new in [
            ("start = 0x00040000\nlength = 0x8000",
             f"start = 0x{0x20000 + ecm:08X}\nlength = 0x8000"),
            ("start = 0x00020000\nlength = 0x20000", f"start = 0x00020000\nlength = 0x{ecm:X}"),
            ("start = 0x00110000\nlength = 0x10000",
             f"start = 0x{0x100000 + bsi:08X}\nlength = 0x10000"),
            ("start = 0x00100000\nlength = 0x10000", f"start = 0x00100000\nlength = 0x{bsi:X}"),
            ("start = 0x08000000\nlength = 0x40000", f"start = 0x08000000\nlength = 0x{adas:X}")]:
        assert old in text, old
        text = text.replace(old, new)
    return text


@dataclasses.dataclass
class Transfer:
    seconds: float
    messages: list[bytes]  # the messages that carried the data (requests or answers)
    tx_id: int  # their sender's CAN ID
    rx_id: int  # the flow control's


class Recorder:
    """Times the download and read-out transfers of a flash by wrapping the two functions
    the flash calls for them, and keeps the messages that carried the data."""

    def __init__(self) -> None:
        self.download: Transfer | None = None
        self.readout: Transfer | None = None
        self.ids: tuple[int, int] = (0, 0)  # tester's request ID, ECU's answer ID

    def __enter__(self) -> Recorder:
        self._download, self._read_out = ecu_flash.download, readout.read_out

        def download(ecu: Any, profile: Any, **kw: Any) -> int:
            t0 = time.perf_counter()
            max_len = self._download(ecu, profile, **kw)
            seconds = time.perf_counter() - t0
            data, per = kw["data"], max_len - 2
            msgs = [bytes([0x36, (i + 1) & 0xFF]) + data[at:at + per]
                    for i, at in enumerate(range(0, len(data), per))]
            self.download = Transfer(seconds, msgs, *self.ids)
            return int(max_len)

        def read_out(ecu: Any, profile: Any, **kw: Any) -> bytes:
            t0 = time.perf_counter()
            data = self._read_out(ecu, profile, **kw)
            seconds = time.perf_counter() - t0
            if profile.readout == "read_memory":
                per, sid = 4094, 0x63
                msgs = [bytes([sid]) + data[at:at + per] for at in range(0, len(data), per)]
            else:
                per = 4093  # the polling bootloader's upload blocks (4095 with SID, counter)
                msgs = [bytes([0x76, (i + 1) & 0xFF]) + data[at:at + per]
                        for i, at in enumerate(range(0, len(data), per))]
            self.readout = Transfer(seconds, msgs, self.ids[1], self.ids[0])
            return bytes(data)

        ecu_flash.download = download  # type: ignore[assignment]
        readout.read_out = read_out  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        ecu_flash.download = self._download  # type: ignore[assignment]
        readout.read_out = self._read_out  # type: ignore[assignment]


def van_toml(folder: Path, *, fd: bool, size: int) -> Path:
    text = widened((ROOT / "resources" / "vehicles" / "van.toml").read_text(), size)
    if fd:
        text = text.replace("\nfd = false\n", "\nfd = true\n")
    else:
        bus = "fd = true\ndata_bitrate = 2000000\n"
        assert bus in text
        text = text.replace(bus, "").replace("\nfd = true\n", "\nfd = false\n")
    path = folder / f"van-{'fd' if fd else 'classic'}-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(text)
    return path


def van_package(folder: Path, family: str, size: int) -> Path:
    ecu = VAN[family][0]
    own = folder / f"pkg-{uuid.uuid4().hex[:8]}"  # one package per folder: same file names
    own.mkdir()
    return van_test_package(own, ecu, "sha256" if ecu == "ADAS" else "crc32", size)


def ceiling_bps(model: BusRateModel, t: Transfer, *, fd: bool, extended: bool,
                write_bytes_per_s: float | None = None, latency_s: float = 0.0) -> float:
    """Bytes per second of the data in `t`'s messages, each at the ISO-TP ceiling for its
    own bytes; with `write_bytes_per_s` and `latency_s`, each also waits for the ECU's write
    of its data and its answer latency (the ECU's declared time per block)."""
    seconds, payload = 0.0, 0
    for msg in t.messages:
        data = len(msg) - (1 if msg[0] == 0x63 else 2)
        payload += data
        seconds += len(msg) / isotp_ceiling_bps(model, fd=fd, extended_id=extended, data=msg,
                                                tx_id=t.tx_id, rx_id=t.rx_id)
        if write_bytes_per_s:
            seconds += data / write_bytes_per_s
        seconds += latency_s
    return payload / seconds


def flash_once(folder: Path, family: str, vehicle: Path, pkg: Path, *, fd: bool,
               instant_write: bool) -> Recorder:
    definition = load_vehicle(vehicle)
    reset_state(definition.name)  # factory ECUs, running 1.0.0
    shutil.rmtree(images.store_dir(), ignore_errors=True)  # no image of 1.0.0: read it out
    adapter = AdapterConfig(channel=f"fam-{uuid.uuid4()}", rate_model=True, fd=fd,
                            data_bitrate=2_000_000 if fd else None)
    ecu = VAN[family][0] if family in VAN else "B0"
    overrides = {"baseline": "benchmark", "version": "benchmark"}
    if family not in ("polling", GENERIC):  # these two read their image out instead
        overrides["rollback"] = "benchmark"
    with VehicleConnection(adapter, definition) as conn, Recorder() as rec:
        e = definition.ecu(ecu)
        rec.ids = (e.request_id, e.response_id)
        sim = conn.simulator
        assert sim is not None
        server = sim.ecus[ecu].server
        if instant_write:
            server.convention = dataclasses.replace(server.convention,
                                                    write_bytes_per_s=1e12)
        server.booted_at = server.now() - 3600  # powered on long ago: no NRC 0x37 wait
        prep = prepare_flash(conn, pkg, overrides=overrides)
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        o = run_flash(conn, prep).ecus[0]
        assert o.outcome == "success", (family, o.outcome, o.detail)
    assert rec.download is not None
    return rec


def measure(folder: Path, family: str, *, fd: bool, size: int, runs: int) -> str:
    if family == GENERIC:
        single = ('write_bytes_per_s = 1e12\nerase_ms_per_sector = 0.001\n'
                  'readout = "read_memory"\nreadout_chunk = 4094')
        vehicle = vehicle_toml(folder, fd=fd, latency="[2, 6]", profile=single,
                               banks="single")
        pkg = generic_package(folder, "2.0.0", ["B0"], size=size)
        declared_write = None
        latency = 0.004  # the mean of latency_ms = [2, 6], as the van's
    else:
        vehicle, pkg = van_toml(folder, fd=fd, size=size), van_package(folder, family, size)
        definition = load_vehicle(vehicle)
        declared_write = definition.ecu(VAN[family][0]).flash.write_bytes_per_s
        low, high = definition.ecu(VAN[family][0]).latency_ms
        latency = (low + high) / 2000
    model = BusRateModel(500_000, 2_000_000 if fd else None)
    extended = family != GENERIC
    down, down_instant, up, up_ratio = [], [], [], []
    ratio, ratio_instant, ratio_write = [], [], []
    rec: Recorder | None = None
    for _ in range(runs):  # declared write time and zero write time, side by side
        rec = flash_once(folder, family, vehicle, pkg, fd=fd, instant_write=False)
        fast = flash_once(folder, family, vehicle, pkg, fd=fd, instant_write=True)
        assert rec.download is not None and fast.download is not None
        ceiling = ceiling_bps(model, rec.download, fd=fd, extended=extended)
        with_write = ceiling_bps(model, rec.download, fd=fd, extended=extended,
                                 write_bytes_per_s=declared_write, latency_s=latency)
        down.append(size / rec.download.seconds)
        down_instant.append(size / fast.download.seconds)
        ratio.append(down[-1] / ceiling)
        ratio_instant.append(down_instant[-1] / ceiling)
        ratio_write.append(down[-1] / with_write)
        for r in (rec, fast):
            if r.readout is not None:
                n = sum(len(m) - (1 if m[0] == 0x63 else 2) for m in r.readout.messages)
                up.append(n / r.readout.seconds)
                up_ratio.append(up[-1] / ceiling_bps(model, r.readout, fd=fd,
                                                     extended=extended))
    assert rec is not None and rec.download is not None
    block = len(rec.download.messages[0])
    med = statistics.median
    line = (f"{family:<9} {'FD' if fd else 'classic':<7} block {block:5d}: download "
            f"{med(down) / 1e3:6.1f} kB/s, ceiling {ceiling / 1e3:6.1f} kB/s, ratio "
            f"{med(ratio):.2f} (goal >= 0.9); ECU write time zero: {med(ratio_instant):.2f}"
            f"; vs the ceiling plus the ECU's declared time per block (answer latency "
            f"{latency * 1e3:.0f} ms")
    if declared_write:
        line += f", write at {declared_write / 1e3:.0f} kB/s"
    line += f"): {med(ratio_write):.2f}"
    if up:
        line += (f" | read-out {med(up) / 1e3:6.1f} kB/s, ratio {med(up_ratio):.2f} of "
                 "its ceiling")
    return line


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kib", type=int, default=256, help="image size")
    ap.add_argument("--buses", default="classic,fd")
    ap.add_argument("--families", default=",".join([*VAN, GENERIC]))
    args = ap.parse_args()
    logging.disable(logging.ERROR)  # the ECUs' expected NRCs (bootloader DIDs); failures assert
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        os.environ["WORKSHOP_HOME"] = str(folder / "home")
        for bus in args.buses.split(","):
            for family in args.families.split(","):
                print(measure(folder, family, fd=bus == "fd", size=args.kib * 1024,
                              runs=args.runs), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

