"""The demo flows on a fresh install (a new WORKSHOP_HOME): every package the store offers
for the vehicle as it leaves the factory plans ready, the README's reflash examples exit 0 in
the README's order, and the baseline check names each fixing package as `workshop flash`
knows it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli import run_cli
from workshop.foundation.paths import resources_dir
from workshop.services import baseline_check, diagnose, flash, trust_policy
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import AdapterConfig

UPDATES = sorted(p.stem for p in (resources_dir() / "packages").glob("*-1.[12].0.toml")
                 if 'vehicle_models = ["demo-car"]' in p.read_text(encoding="utf-8")
                 and not p.name.startswith("factory-"))


def test_every_demo_update_plans_ready_on_the_factory_vehicle(
        demo: VehicleConnection) -> None:
    assert len(UPDATES) == 8  # the seven 1.1.0 updates and powertrain 1.2.0
    blocked = {}
    for name in UPDATES:
        path = flash.find_package(name, simulated=True, vehicle="demo-car")
        prep = flash.prepare_flash(demo, path)
        assert prep.plan is not None, name
        if not prep.ready:
            blocked[name] = [f"{e.ecu} {c.name}: {c.detail}" for e in prep.plan.ecus
                             for c in e.checks if not c.passed]
    assert blocked == {}


def test_the_baseline_names_packages_as_flash_knows_them(demo: VehicleConnection) -> None:
    trust = trust_policy.trust_store(AdapterConfig())
    baseline_check.ensure_demo_material("demo-car")
    verdicts = baseline_check.verdicts_for(diagnose.scan(demo), AdapterConfig(), "demo-car")
    fixes = {v.ecu: v.package for v in verdicts}
    assert fixes["ENGINE"] == "engine-1.1.0"
    assert "update with engine-1.1.0" in next(v.detail for v in verdicts if v.ecu == "ENGINE")
    stored = baseline_check.stored_packages(trust)
    assert all(name in stored for name in fixes.values())
    # the manifest id a signed record names is found too
    assert flash.find_package("demo-car-engine-1.1.0", simulated=True,
                              vehicle="demo-car").name == "engine-1.1.0.wspkg"


def test_readme_reflash_examples_exit_0_in_order(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    assert run_cli(home, "flash", "engine-1.1.0", "--dry-run").returncode == 0
    done = run_cli(home, "flash", "engine-1.1.0", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    both = run_cli(home, "flash", "powertrain-1.2.0", "--yes", "--json")
    assert both.returncode == 0, both.stdout + both.stderr
    doc = json.loads(both.stdout)  # nothing but the JSON on stdout
    assert [(e["ecu"], e["version_after"]) for e in doc["ecus"]] == [
        ("GATEWAY", "1.2.0"), ("ENGINE", "1.2.0")]
    assert run_cli(home, "flash", "resume").returncode == 0


def test_powertrain_straight_from_the_factory(tmp_path: Path) -> None:
    proc = run_cli(tmp_path / "fresh", "flash", "powertrain-1.2.0", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_confirmation_question_stays_off_stdout(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())",
         "flash", "abs-1.1.0", "--json"], input="y\n", capture_output=True, text=True,
        env=dict(os.environ, WORKSHOP_HOME=str(tmp_path / "h"), PYTHONPATH=str(root)),
        timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "[y/N]" in proc.stderr
    assert json.loads(proc.stdout)["ecus"][0]["outcome"] == "success"


def test_a_home_from_before_the_factory_packages_gets_them() -> None:
    baseline_check.ensure_demo_material("demo-car")
    factory = baseline_check.package_store() / "factory-abs-1.0.0.wspkg"
    factory.unlink()
    baseline_check.ensure_demo_material("demo-car")
    assert factory.is_file()
