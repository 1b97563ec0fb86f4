"""Live data benchmark: reads per second against the bus's ceiling, and the GUI while it
plots eight signals at 20 Hz.

Run: python benchmarks/live.py [--seconds S] [--runs N]
  (a) demo-car's ENGINE on the 500 kbit/s bus-rate model (every frame takes its on-wire
      time): 0x22 request/response pairs per second with one DID and with eight DIDs per
      request, against the ceiling those very frames allow (their bits from
      transport.canbits, flow control included, no gap between frames). Once with the
      ECU answering at once (latency 0: what the tester's stack reaches) and once with the
      shipped definition's 5-15 ms ECU latency (what a technician sees).
  (b) the app's Live data view reading eight signals every 50 ms for --seconds (from half
      a second after its strips are laid out): the longest gap between two ticks of a 5 ms
      GUI timer, per run and its median over --runs runs (goal: < 50 ms), beside the same
      window connected and not reading, and beside the same window still reading with the
      plots not redrawn (the table still filled): what the drawing costs, apart from the
      reading's threads; the value sets per second that reached the view; the time from
      Start until every strip is laid out.
Offscreen (QT_QPA_PLATFORM=offscreen); the machine is shared: read medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp())

from workshop.diagnostics.live import LiveReader  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.transport.adapters import AdapterConfig  # noqa: E402
from workshop.transport.busrate import ISOTP_PADDING, BusRateModel, isotp_frames  # noqa: E402
from workshop.transport.canbits import frame_bits  # noqa: E402
from workshop.vehicles import VehicleDefinition, load_vehicle  # noqa: E402
from workshop.vehicles.definition import builtin_vehicles  # noqa: E402
from workshop.vehicles.ecu_descriptions import ecu_descriptions  # noqa: E402

EIGHT = [0xF404, 0xF405, 0xF40C, 0xF40D, 0xF40F, 0xF410, 0xF411, 0xF442]
FLOW_CONTROL = bytes([0x30, 0, 0]).ljust(8, bytes([ISOTP_PADDING]))
assert "demo-car" in builtin_vehicles()


def pair_seconds(model: BusRateModel, request: bytes, response: bytes,
                 tx_id: int = 0x7E0, rx_id: int = 0x7E8) -> float:
    """On-wire time of one request and its answer, each with its flow control if it takes
    more than one frame."""
    def wire(can_id: int, data: bytes) -> float:
        return model.bits_time(frame_bits(can_id, data, extended_id=False))

    total = 0.0
    for sender, receiver, payload in ((tx_id, rx_id, request), (rx_id, tx_id, response)):
        frames = isotp_frames(payload, fd=False)
        total += sum(wire(sender, f) for f in frames)
        if len(frames) > 1:
            total += wire(receiver, FLOW_CONTROL)
    return total


def vehicle(latency_zero: bool, folder: Path) -> VehicleDefinition:
    source = ROOT / "resources" / "vehicles" / "demo-car.toml"
    if not latency_zero:
        return load_vehicle(source)
    text = source.read_text(encoding="utf-8").replace("latency_ms = [5, 15]",
                                                      "latency_ms = [0, 0]")
    path = folder / "demo-car.toml"
    path.write_text(text, encoding="utf-8")
    return load_vehicle(path)


def reads_per_second(v: VehicleDefinition, dids: list[int], seconds: float
                     ) -> tuple[float, bytes, bytes]:
    """(requests answered per second, one request, its answer) on the bus-rate model."""
    adapter = AdapterConfig(channel=f"live-bench-{uuid.uuid4()}", bitrate=500_000,
                            rate_model=True)
    with VehicleConnection(adapter, v) as conn, conn.client("ENGINE") as ecu:
        request = bytes([0x22]) + b"".join(d.to_bytes(2, "big") for d in dids)
        response = bytes([0x62]) + ecu.read_dids_raw(tuple(dids))
        reader = LiveReader(ecu, dids, ecu_descriptions(v, "ENGINE"), duration_s=seconds)
        start = time.monotonic()
        summary = reader.run()
        elapsed = time.monotonic() - start
        requests = summary.cycles if len(dids) > 1 and not reader.single_only \
            else summary.samples
    return requests / elapsed, request, response


def part_a(seconds: float, runs: int) -> None:
    model = BusRateModel(500_000)
    with tempfile.TemporaryDirectory() as folder:
        for latency_zero, label in ((True, "ECU answers at once"),
                                    (False, "shipped 5-15 ms ECU latency")):
            v = vehicle(latency_zero, Path(folder))
            for dids in ([0xF40C], EIGHT):
                rates = []
                for _ in range(runs):
                    rate, request, response = reads_per_second(v, dids, seconds)
                    rates.append(rate)
                ceiling = 1 / pair_seconds(model, request, response)
                rate = statistics.median(rates)
                values = rate * len(dids)
                print(f"(a) {len(dids)} DID{'s' if len(dids) > 1 else ''} per 0x22, {label}: "
                      f"{rate:.0f} requests/s ({values:.0f} values/s), bus ceiling "
                      f"{ceiling:.0f} requests/s -> {rate / ceiling:.2f} of it "
                      f"(median of {runs} runs of {seconds:g} s)", flush=True)


def part_b(seconds: float, runs: int) -> None:
    from PySide6.QtWidgets import QApplication

    from benchmarks.ui import StallMeter, spin
    from ui.main_window import MainWindow
    from workshop.foundation import logs

    app = QApplication.instance() or QApplication([])
    assert app is not None
    logs.configure()
    worst: list[float] = []
    idle: list[float] = []
    undrawn: list[float] = []
    rates: list[float] = []
    starts: list[float] = []
    for _ in range(runs):
        w = MainWindow("demo-car", channel=f"live-ui-{uuid.uuid4()}")
        w.resize(1280, 760)
        w.show()
        w.panel.toggle()
        while w.session.conn is None:
            spin(50)
        view = w.views["LiveView"]
        w.tabs.setCurrentWidget(view)
        view.choose(EIGHT)
        view.period.setValue(0.05)
        meter = StallMeter()
        spin(300)
        meter.worst = 0
        spin(int(seconds * 1000))  # side by side: the same window, connected, not reading
        idle.append(float(meter.worst))
        began = time.perf_counter()
        view.start()  # lays out the eight strips, one per event-loop turn: measured apart
        while view.plots.layout_pending:
            spin(20)
        starts.append((time.perf_counter() - began) * 1000)
        spin(500)
        meter.worst = 0
        spin(int(seconds * 1000))
        worst.append(float(meter.worst))
        rates.append(view.sets / (time.monotonic() - view.started))
        draw = view.plots.draw
        view.plots.draw = lambda: None  # type: ignore[method-assign]
        spin(300)
        meter.worst = 0
        spin(int(seconds * 1000))  # still reading, plots not redrawn
        undrawn.append(float(meter.worst))
        view.plots.draw = draw  # type: ignore[method-assign]
        view.stop()
        while view.job is not None:
            spin(50)
        w.close()
    print(f"(b) GUI plotting 8 signals at 20 Hz for {seconds:g} s: longest event-loop stall "
          f"median {statistics.median(worst):.0f} ms over {runs} runs (each run's: "
          f"{', '.join(f'{x:.0f}' for x in worst)} ms; goal < 50 ms); the same window not "
          f"reading, side by side: median {statistics.median(idle):.0f} ms (each: "
          f"{', '.join(f'{x:.0f}' for x in idle)} ms); still reading with the plots not "
          f"redrawn: median {statistics.median(undrawn):.0f} ms (each: "
          f"{', '.join(f'{x:.0f}' for x in undrawn)} ms); value sets shown "
          f"{statistics.median(rates):.1f}/s (asked: 20/s); after Start the strips were all laid "
          f"out in {statistics.median(starts):.0f} ms", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--parts", default="ab")
    args = ap.parse_args()
    if "a" in args.parts:
        part_a(args.seconds, args.runs)
    if "b" in args.parts:
        part_b(args.seconds, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
