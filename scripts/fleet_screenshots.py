"""Render the Fleet view and the status bar's central-store states offscreen, on a throwaway
PostgreSQL (the tests' server): this app is one workstation and flashes the simulated demo
car; two more workstations' flashes arrive as signed logs. Writes docs/screenshots/fleet.png
and, with --all, the other states to --out. Run: python scripts/fleet_screenshots.py [--all]"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("WORKSHOP_HOME", tempfile.mkdtemp(prefix="workshop-fleet-shots-"))


from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.store.helpers import PASSWORD, role_dsn, workstation  # noqa: E402
from tests.store.pgserver import running_server  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.theme import apply_theme  # noqa: E402
from workshop.audit import AuditLog, AuditSigner  # noqa: E402
from workshop.foundation.settings import Settings, load_settings, save_settings  # noqa: E402
from workshop.services.baseline_check import baseline_store, ensure_demo_material  # noqa: E402
from workshop.services.sync import sync_log  # noqa: E402
from workshop.store.admin import enroll  # noqa: E402
from workshop.store.migrations import init_store  # noqa: E402
from workshop.store.session import StoreSession  # noqa: E402

VIN = "WDXDEMC12RA000001"


def spin_until(check: object, timeout_ms: int = 60000) -> None:
    loop, waited = QEventLoop(), 0
    while not check() and waited < timeout_ms:  # type: ignore[operator]
        QTimer.singleShot(50, loop.quit)
        loop.exec()
        waited += 50


def _flash(log: Path, who: AuditSigner, vin: str, ecu: str, before: str, after: str,
           dtcs: tuple[str, ...] = ()) -> None:
    """The records another bay's flash writes (their shape as workshop.flash writes them)."""
    package = f"demo-car-{ecu.lower()}-{after}"
    with AuditLog.open(log, who) as opened:
        opened.append("flash", vin=vin, ecu="*", technician="Sam Lee (T-0107)", details={
            "phase": "intent", "request": {"vehicle": "demo-car", "package": package,
                                           "signer": "Demo OEM release (demo PKI)",
                                           "ecus": {ecu: {"from": before, "to": after}},
                                           "dtcs_before": {ecu: list(dtcs)}}})
        opened.append("flash.ecu", vin=vin, ecu=ecu, technician="Sam Lee (T-0107)", details={
            "phase": "outcome", "outcome": "success", "result": {
                "version_before": before, "version_after": after}})


def other_workstations(owner: str, folder: Path) -> None:
    """Two other bays: the same car's ABS, and more vehicles whose DTCs the flashes found."""
    b, b_dsn = workstation(owner, "bay-2-laptop")
    c, c_dsn = workstation(owner, "bay-5-laptop")
    _flash(folder / "b.db", b, VIN, "ABS", "1.0.0", "1.1.0", dtcs=("C003500",))
    for n, dtcs in enumerate((("C003500",), ("C003500", "C004100"), ("C004100",))):
        _flash(folder / "c.db", c, f"WDXDEMC12RA00010{n}", "ABS", "1.1.0", "1.2.0", dtcs=dtcs)
    _flash(folder / "c.db", c, "WDXDEMC12RA000200", "ENGINE", "1.1.0", "1.0.5",
           dtcs=("P030100", "P017100"))
    sync_log(b_dsn, folder / "b.db", lambda: b)
    sync_log(c_dsn, folder / "c.db", lambda: c)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--all", action="store_true", help="also the status states and tabs")
    ap.add_argument("--dark", action="store_true")
    args = ap.parse_args()
    save_settings(Settings(workshop_name="Demo Garage, Springfield",
                           technician_name="Jane Doe", technician_id="T-0042"))
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "dark" if args.dark else "light")
    suffix = "-dark" if args.dark else ""
    with running_server() as server, tempfile.TemporaryDirectory() as tmp:
        owner = server.dsn()
        init_store(owner)
        _, a_dsn = workstation(owner, "bay-1-laptop")
        other_workstations(owner, Path(tmp))
        enroll(owner, "auditor", "service-manager", password=PASSWORD)
        enroll(owner, "publisher", "group-it", password=PASSWORD)
        ensure_demo_material("demo-car")
        signed = next(baseline_store().glob("*.baseline"))
        with StoreSession(role_dsn(owner, "group-it")) as publisher:
            publisher.publish("baseline", signed.name, signed.read_bytes())
        save_settings(replace(load_settings(), store=a_dsn,
                              fleet_store=role_dsn(owner, "service-manager")))
        w = MainWindow("demo-car", channel=f"fleet-shots-{uuid.uuid4()}")
        w.resize(1280, 760)
        w.show()
        w.panel.toggle()
        spin_until(lambda: w.session.conn is not None)
        w.session.start_scan()
        spin_until(lambda: w.session.scan is not None)
        update = w.views["UpdateView"]
        update.package.setCurrentText("engine-1.1.0")  # type: ignore[attr-defined]
        update.plan_button.click()  # type: ignore[attr-defined]
        spin_until(lambda: update.flash_button.isEnabled())  # type: ignore[attr-defined]
        update.confirm = lambda text: True  # type: ignore[attr-defined]
        update.flash_button.click()  # type: ignore[attr-defined]
        spin_until(lambda: "SUCCESS" in update.result.toPlainText())  # type: ignore[attr-defined]
        spin_until(lambda: "store: synced" in w.store_state.text() and
                   "0 records" in w.store_state.text())
        fleet = w.views["FleetView"]
        w.tabs.setCurrentWidget(fleet)
        fleet.vin.setText(VIN)  # type: ignore[attr-defined]
        fleet.show_history()  # type: ignore[attr-defined]
        spin_until(lambda: fleet.history.rowCount() > 0)  # type: ignore[attr-defined]
        spin_until(lambda: not w.session.runner.busy)
        w.grab().save(str(args.out / f"fleet{suffix}.png"))
        if args.all:
            fleet.tabs.setCurrentIndex(1)  # type: ignore[attr-defined]
            fleet.show_deviations()  # type: ignore[attr-defined]
            spin_until(lambda: "baseline" in fleet.note.text() and not w.session.runner.busy)  # type: ignore[attr-defined]
            w.grab().save(str(args.out / f"fleet-deviations{suffix}.png"))
            fleet.tabs.setCurrentIndex(2)  # type: ignore[attr-defined]
            fleet.show_dtcs()  # type: ignore[attr-defined]
            spin_until(lambda: fleet.bars is not None and not w.session.runner.busy)  # type: ignore[attr-defined]
            w.grab().save(str(args.out / f"fleet-dtcs{suffix}.png"))
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                dead = a_dsn.replace(f"port={server.port}", f"port={s.getsockname()[1]}")
            save_settings(replace(load_settings(), store=dead))
            w.store_sync.request(sync=True)
            spin_until(lambda: "unreachable" in w.store_state.text())
            w.grab().save(str(args.out / f"status-unreachable{suffix}.png"))
            from ui.store_sync import StoreState, describe
            from workshop.services.sync import SyncResult, SyncStatus

            alarm = SyncResult("", "", 9, 12, 0, 12, "2026-12-07T09:30:00Z", alarm=(
                "the central store already holds this log up to seq 12, but the log ends at "
                "seq 9: the log was cut back (restored from an older copy with its older "
                "head)"))
            w.show_store_state(describe(SyncStatus(True, alarm, 0), None, None, 60))
            w.grab().save(str(args.out / f"status-alarm{suffix}.png"))
            assert isinstance(w.store_sync.state, StoreState)
        w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
