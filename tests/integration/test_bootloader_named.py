"""An ECU an interrupted flash left in its bootloader is named as such by `scan`, `dtc read`
and `ecu info` (text and --json), with `workshop flash resume` as what to do; before, scan
showed it as "DTC read failed: NRC 0x11" and never mentioned resume."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.conftest import open_vehicle
from tests.flash.helpers import Update, build
from workshop.cli import main
from workshop.diagnostics.bootloader import in_bootloader
from workshop.services.flash import prepare_flash, run_flash

STUCK = "BODY"  # single bank: a power loss mid-transfer leaves it in its bootloader


def leave_in_bootloader(folder: Path, ecu: str = STUCK) -> None:
    """A real flash over the simulator, cut by a power loss half-way through the download;
    the simulated vehicle keeps its state on disk (WORKSHOP_HOME), as a car keeps it."""
    conn = open_vehicle("demo-car")
    try:
        sim = conn.simulator
        assert sim is not None
        pkg = build(folder, "cut", [Update(ecu, size=30000)])
        prep = prepare_flash(conn, pkg, only=[ecu], overrides={"rollback": "test"})
        sim.fault(ecu).lose_power_after_bytes(12345, off_s=0.3)
        outcome = run_flash(conn, prep).ecus[0]
        assert outcome.outcome == "resumable", outcome.detail
        assert sim.fault(ecu).powered.wait(5)
        assert not sim.ecus[ecu].flash.application_valid()
    finally:
        conn.close()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--channel", f"boot-{uuid.uuid4()}", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


def test_scan_and_dtc_read_name_the_ecu_in_its_bootloader_and_say_resume(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = cli(capsys, "scan", "--json")
    assert code == 0
    healthy = json.loads(out)
    assert healthy["in_bootloader"] == []
    assert not any(e["in_bootloader"] for e in healthy["ecus"])

    leave_in_bootloader(tmp_path)

    code, out = cli(capsys, "scan")
    assert code == 1  # an ECU that runs no application is a finding
    row = next(line for line in out.splitlines() if line.strip().startswith(STUCK))
    assert "IN BOOTLOADER: run 'workshop flash resume'" in row
    assert "NRC 0x11" not in out
    assert (f"{STUCK} sits in the bootloader: a flash was interrupted. "
            "Run 'workshop flash resume' to finish it.") in out
    others = [line for line in out.splitlines() if "IN BOOTLOADER" in line]
    assert len(others) == 1  # only the ECU that is there

    code, out = cli(capsys, "scan", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["in_bootloader"] == [STUCK]
    body = next(e for e in doc["ecus"] if e["name"] == STUCK)
    assert body["in_bootloader"] is True and body["responded"] is True
    assert "bootloader" in body["error"] and body["dtcs"] == []
    assert all(not e["in_bootloader"] for e in doc["ecus"] if e["name"] != STUCK)

    code, out = cli(capsys, "dtc", "read")
    assert code == 1
    assert f"! IN BOOTLOADER: {STUCK} sits in its bootloader" in out
    assert "-> run 'workshop flash resume' to finish the flash" in out
    assert "NRC 0x11" not in out

    code, out = cli(capsys, "dtc", "read", "--ecu", STUCK, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["in_bootloader"] == [STUCK]
    assert doc["ecus"][0]["in_bootloader"] is True

    code, out = cli(capsys, "ecu", "info", STUCK, "--json")
    assert code == 0 and json.loads(out)["in_bootloader"] is True
    code, out = cli(capsys, "ecu", "info", STUCK)
    assert "IN BOOTLOADER" in out and "workshop flash resume" in out

    code, out = cli(capsys, "baseline", "check")
    row = next(line for line in out.splitlines() if line.strip().startswith(STUCK))
    assert "IN BOOTLOADER: a flash was interrupted; run 'workshop flash resume'" in row
    code, out = cli(capsys, "baseline", "check", "--json")
    assert json.loads(out)["in_bootloader"] == [STUCK]

    # a clear is refused by the bootloader: said as such, not as "NRC 0x11"
    code, out = cli(capsys, "dtc", "clear", "--ecu", STUCK, "--yes")
    assert code == 1 and "NOT cleared: sits in its bootloader" in out
    assert "workshop flash resume" in out and "NRC" not in out
    code, out = cli(capsys, "dtc", "clear", "--all", "--yes", "--json")
    cleared = {r["ecu"]: r for r in json.loads(out)["cleared"]}
    assert code == 1 and "sits in its bootloader" in cleared[STUCK]["detail"]
    assert cleared["ENGINE"]["ok"]

    # the command it names does finish the flash; then nothing is in its bootloader
    code, _ = cli(capsys, "flash", "resume", "--yes")
    assert code == 0
    code, out = cli(capsys, "scan", "--json")
    assert code == 0 and json.loads(out)["in_bootloader"] == []


def test_the_rule_asks_the_ecu(tmp_path: Path) -> None:
    leave_in_bootloader(tmp_path)
    conn = open_vehicle("demo-car")
    try:
        for name, expected in ((STUCK, True), ("ENGINE", False)):
            with conn.client(name) as ecu:
                assert in_bootloader(ecu, conn.vehicle.ecu(name)) is expected
    finally:
        conn.close()
