"""Baseline check: a scan of the simulated vehicle against a signed baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop.cli import main
from workshop.packages.errors import PackageError
from workshop.services import baseline_check, diagnose
from workshop.services.connection import VehicleConnection
from workshop.trust.errors import TrustError


def test_every_demo_ecu_is_outdated_with_the_package_that_fixes_it(
        demo: VehicleConnection) -> None:
    baseline_check.ensure_demo_material("demo-car")
    trust = baseline_check.trust_store(None)
    baseline = baseline_check.find_baseline("demo-car", trust, allow_demo_root=True)
    packages = baseline_check.known_packages(trust, allow_demo_root=True)
    verdicts = baseline_check.check(diagnose.scan(demo), baseline, packages)
    by_ecu = {v.ecu: v for v in verdicts}
    assert len(by_ecu) == 7 and {v.verdict for v in verdicts} == {"outdated"}
    assert by_ecu["ENGINE"].package == "demo-car-engine-1.1.0"


def test_missing_and_unknown_ecus(demo: VehicleConnection) -> None:
    baseline_check.ensure_demo_material("demo-car")
    trust = baseline_check.trust_store(None)
    baseline = baseline_check.find_baseline("demo-car", trust, allow_demo_root=True)
    assert demo.simulator is not None
    demo.simulator.fault("AIRBAG").stop_answering()
    scan = diagnose.scan(demo, discover=False)
    verdicts = {v.ecu: v.verdict for v in baseline_check.check(scan, baseline, [])}
    assert verdicts["AIRBAG"] == "missing"
    assert verdicts["ENGINE"] == "unapproved"  # 1.0.0 and no known package updates it


def test_demo_baseline_is_refused_off_the_simulator() -> None:
    baseline_check.ensure_demo_material("demo-car")
    trust = baseline_check.trust_store(None)
    with pytest.raises((PackageError, TrustError)) as err:
        baseline_check.find_baseline("demo-car", trust, allow_demo_root=False)
    assert "demo root" in str(err.value)


def test_cli_baseline_check_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["--channel", f"cli-{tmp_path.name}", "baseline", "check", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # not every ECU is approved
    assert out["vin"] == "WDXDEMC12RA000001" and len(out["ecus"]) == 7
    assert all(e["verdict"] == "outdated" for e in out["ecus"])
