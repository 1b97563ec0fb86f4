"""CLI end to end: subprocesses (one simulator per process) and in-process `sim reset`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workshop.cli import main

J2012 = re.compile(r"^[PCBU][0-3][0-9A-F]{3}[0-9A-F]{2}$")
ROOT = Path(__file__).resolve().parents[2]


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WORKSHOP_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False)


def scan_json(home: Path, *pre: str) -> dict:
    proc = run_cli(home, *pre, "scan", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def present_codes(vehicle: str) -> dict[str, set[str]]:
    from workshop.vehicles import load_vehicle
    v = load_vehicle(vehicle)
    return {e.name: {d.code for d in e.dtcs if d.present} for e in v.ecus}


def check_scan(doc: dict, vehicle: str) -> None:
    from workshop.vehicles import load_vehicle
    names = {e.name for e in load_vehicle(vehicle).ecus}
    got = {e["name"]: e for e in doc["ecus"]}
    assert names <= set(got)
    for name in names:
        ecu = got[name]
        assert ecu["error"] is None
        assert ecu["identification"]
        assert ecu["software_version"]
        for dtc in ecu["dtcs"]:
            assert J2012.match(dtc["code"]), dtc
            assert "status" in dtc


@pytest.mark.slow
def test_scan_clear_rescan_demo(tmp_path: Path) -> None:
    doc = scan_json(tmp_path)
    check_scan(doc, "demo-car")
    assert "SW04001" in json.dumps(doc)  # software version of ENGINE
    proc = run_cli(tmp_path, "dtc", "clear", "--all", "--yes")
    assert proc.returncode == 0, proc.stderr
    after = scan_json(tmp_path)
    present = present_codes("demo-car")
    for ecu in after["ecus"]:
        assert {d["code"] for d in ecu["dtcs"]} == present.get(ecu["name"], set()), ecu["name"]


@pytest.mark.slow
def test_scan_truck(tmp_path: Path) -> None:
    check_scan(scan_json(tmp_path, "--vehicle", "truck"), "truck")


def test_unknown_ecu_exit_code(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "ecu", "info", "NOSUCHECU")
    assert proc.returncode == 4, proc.stderr
    assert "NOSUCHECU" in proc.stderr


def test_sim_reset_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "reset", "--json"]) == 0
    out = capsys.readouterr().out
    json.loads(out)


def test_timeout_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A real CAN interface with nothing on it: python-can's virtual bus, no simulator.
    code = main(["--adapter", "virtual", "--channel", f"empty-{tmp_path.name}",
                 "ecu", "info", "ENGINE"])
    assert code == 3
    assert "did not answer" in capsys.readouterr().err
