"""Desktop-app benchmark: GUI event-loop stalls during a flash, and the trace view on a busy bus.

Run: python benchmarks/ui.py [--seconds N]
  - the longest gap between two ticks of a 5 ms GUI timer while a 1 MiB image is flashed on
    the simulator through the Update view (target: never 50 ms or more, so the figure is
    the worst of --runs runs, each run's own longest gap beside it);
  - the trace view fed at 4,500 and 10,000 frames/s for --seconds (default 60): frames the
    view took vs frames sent, rows kept, and the process's memory growth.
Offscreen (QT_QPA_PLATFORM=offscreen); the machine is shared, so read medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp())

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.flash import package, vehicle_toml  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from workshop.foundation import logs  # noqa: E402
from workshop.transport.adapters import AdapterConfig, open_bus  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StallMeter:
    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.clock.start()
        self.last = 0
        self.worst = 0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.worst = max(self.worst, now - self.last)
        self.last = now


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def flash_stall(tmp: Path, run: int, rate_model: bool) -> float:
    veh = vehicle_toml(tmp)
    pkg = package(tmp, f"2.0.{run}", ["B0"], size=1024 * 1024)
    w = MainWindow(str(veh), channel=f"ui-bench-{uuid.uuid4()}")
    w.show()
    w.session.connect_vehicle(str(veh), "sim", w.panel.channel, rate_model=rate_model)
    while w.session.conn is None:
        spin(50)
    update = w.views["UpdateView"]
    update.package.setCurrentText(str(pkg))
    w.session.error.connect(lambda what, hint: print(f"error: {what} ({hint})"))
    update.overrides = {"baseline": "benchmark vehicle", "rollback": "benchmark",
                        "version": "benchmark: the same ECU again"}
    update.plan()
    while not update.flash_button.isEnabled():
        spin(50)
    update.confirm = lambda text: True  # type: ignore[method-assign]
    meter = StallMeter()
    spin(200)
    meter.worst = 0
    update.flash()
    while "—" not in update.result.toPlainText():
        spin(50)
    worst = meter.worst
    w.close()
    return float(worst)


def trace_rate(rate: int, seconds: float) -> tuple[int, int, int, float]:
    channel = f"ui-trace-{uuid.uuid4()}"
    w = MainWindow("demo-car", channel=channel)
    w.show()
    w.panel.toggle()
    while w.session.conn is None:
        spin(50)
    trace = w.views["TraceView"]
    w.tabs.setCurrentWidget(trace)
    sender = open_bus(AdapterConfig(channel=channel))
    stop = threading.Event()
    sent = [0]

    def send() -> None:
        import can
        period = 1.0 / rate
        start = time.perf_counter()
        while not stop.is_set():
            due = start + sent[0] * period
            delay = due - time.perf_counter()
            if delay > 0.002:
                time.sleep(delay)
            sender.send(can.Message(arbitration_id=0x123, data=bytes(8), is_extended_id=False))
            sent[0] += 1

    before = rss_mb()
    t = threading.Thread(target=send, daemon=True)
    t.start()
    meter = StallMeter()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        spin(100)
    stop.set()
    t.join()
    spin(300)
    shown = trace.shown
    rows = len(trace.model.rows)
    sender.shutdown()
    w.close()
    return sent[0], shown, rows, rss_mb() - before + 0 * meter.worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    assert app is not None
    logs.configure()  # as the app does: library records stay off the terminal
    for rate_model, label in ((True, "500 kbit/s bus model"), (False, "untimed bus")):
        with tempfile.TemporaryDirectory() as folder:
            stalls = sorted(flash_stall(Path(folder), run, rate_model)
                            for run in range(args.runs))
        print(f"GUI stall during a 1 MiB flash, {label}: worst {stalls[-1]:.0f} ms over "
              f"{len(stalls)} runs (each run's longest: {', '.join(f'{s:.0f}' for s in stalls)} "
              "ms; target: never >= 50 ms)", flush=True)
    if args.seconds <= 0:
        return 0
    for rate in (4500, 10000):
        sent, shown, rows, grew = trace_rate(rate, args.seconds)
        print(f"trace at {rate} frames/s for {args.seconds:.0f} s: sent {sent}, view took "
              f"{shown} ({shown / max(sent, 1):.2f}), rows kept {rows}, peak memory grew "
              f"{grew:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
