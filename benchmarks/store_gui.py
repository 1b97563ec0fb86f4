"""GUI stall while the app syncs 100 new audit records to the central store (issue 21's goal:
< 50 ms). The app is open and connected to the simulated demo car; a 5 ms QTimer probe in
the GUI thread measures the longest gap of the event loop during each sync. Side by side:
the app's way (the core sync on a worker thread, ui/store_sync.py) and the alternative it
was chosen over (`workshop sync` in a child process, started from a worker thread).

Run: python benchmarks/store_gui.py [--runs 7] [--records 100]
Needs the PostgreSQL server binaries (as the store tests do)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["WORKSHOP_HOME"] = tempfile.mkdtemp(prefix="workshop-store-gui-")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.ui import StallMeter  # noqa: E402
from tests.store.helpers import workstation  # noqa: E402
from tests.store.pgserver import running_server  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.workers import Runner  # noqa: E402
from workshop.foundation.settings import Settings, save_settings  # noqa: E402
from workshop.services.audit_trail import open_audit_log  # noqa: E402


def add_records(n: int) -> None:
    with open_audit_log(simulated=True) as log:
        for i in range(n):
            log.append("dtc.clear", vin="WDXDEMC12RA000001", ecu="ENGINE",
                       technician="Jane Doe (T-0042)",
                       details={"phase": "outcome", "ok": True, "cleared": ["P030100"],
                                "i": i})


def wait_for(signal: object, timeout_ms: int = 180_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def stall_app(w: MainWindow) -> tuple[float, float]:
    meter, started = StallMeter(), time.perf_counter()
    w.store_sync.request(sync=True)
    wait_for(w.store_sync.changed)
    elapsed = time.perf_counter() - started
    meter.timer.stop()
    assert "synced" in w.store_state.text() and "0 records" in w.store_state.text(), \
        w.store_state.text()
    return meter.worst, elapsed


def stall_child(runner: Runner) -> tuple[float, float]:
    command = [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())",
               "sync"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    meter, started = StallMeter(), time.perf_counter()
    job = runner.start(lambda _e, _c: subprocess.run(command, env=env, check=True,
                                                     capture_output=True))
    wait_for(job.done)
    elapsed = time.perf_counter() - started
    meter.timer.stop()
    return meter.worst, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--records", type=int, default=100)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    with running_server() as server:
        from workshop.store.migrations import init_store

        init_store(server.dsn())
        _, dsn = workstation(server.dsn(), "bench-laptop")
        save_settings(Settings(technician_name="Jane Doe", technician_id="T-0042", store=dsn))
        w = MainWindow("demo-car", channel=f"store-gui-{uuid.uuid4()}")
        w.show()
        w.panel.toggle()
        wait_for(w.session.connected)
        wait_for(w.store_sync.changed)  # the sync the app starts with
        runner = Runner()
        results: dict[str, list[tuple[float, float]]] = {"app": [], "child": []}
        for _ in range(args.runs):  # interleaved: both ways see the same machine load
            for mode in results:
                add_records(args.records)
                results[mode].append(stall_app(w) if mode == "app" else
                                     stall_child(runner))
        runner.shutdown()
        w.close()
        del app
    print(f"sync of {args.records} new records with the app open, {args.runs} runs each:")
    for mode, label in (("app", "the app's way: the core sync on a worker thread"),
                        ("child", "`workshop sync` in a child process")):
        stalls = sorted(s for s, _ in results[mode])
        times = [t for _, t in results[mode]]
        print(f"  {label}: longest GUI stall median {statistics.median(stalls):.0f} ms "
              f"(runs: {', '.join(f'{s:.0f}' for s in stalls)}); sync took median "
              f"{statistics.median(times):.2f} s")
    ratio = (statistics.median(s for s, _ in results["child"])
             / max(statistics.median(s for s, _ in results["app"]), 1))
    print(f"  the child process stalls the GUI {ratio:.1f}x longer; goal < 50 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
