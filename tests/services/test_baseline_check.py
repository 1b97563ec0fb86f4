"""Baseline check: a scan of the simulated vehicle against a signed baseline; which baseline
applies (B9); the demo roots only for the simulator (C2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from workshop.cli import main
from workshop.foundation.paths import resources_dir
from workshop.packages.errors import PackageError
from workshop.services import baseline_check, diagnose, trust_policy
from workshop.services.baseline_check import BaselineSelectionError
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import user_demo_pki
from workshop.trust.store import TrustStore

SIM = AdapterConfig()
REAL = AdapterConfig(interface="socketcan", channel="can0")
DEMO_SPEC = resources_dir() / "baselines" / "demo-car-2026.11.toml"


def _spec(folder: Path, model: str, level: str, valid_from: str | None) -> Path:
    text = DEMO_SPEC.read_text().replace('vehicle_model = "demo-car"',
                                         f'vehicle_model = "{model}"')
    line = f'integration_level = "{level}"'
    if valid_from is not None:
        line += f"\nvalid_from = {valid_from}"
    path = folder / f"{model}-{level}.toml"
    path.write_text(text.replace('integration_level = "2026.11"', line))
    return path


def _store(name: str, model: str, level: str, valid_from: str | None, tmp: Path) -> Path:
    out = baseline_check.baseline_store() / name
    assert main(["baseline", "sign", str(_spec(tmp, model, level, valid_from)),
                 "--out", str(out)]) == 0
    return out


def test_every_demo_ecu_is_outdated_with_the_package_that_fixes_it(
        demo: VehicleConnection) -> None:
    baseline_check.ensure_demo_material("demo-car")
    trust = trust_policy.trust_store(SIM)
    choice = baseline_check.find_baseline("demo-car", trust)
    packages = baseline_check.known_packages(trust)
    verdicts = baseline_check.check(diagnose.scan(demo), choice.baseline, packages)
    by_ecu = {v.ecu: v for v in verdicts}
    assert len(by_ecu) == 7 and {v.verdict for v in verdicts} == {"outdated"}
    assert by_ecu["ENGINE"].package == "demo-car-engine-1.1.0"
    assert choice.warnings == ()


def test_missing_and_unknown_ecus(demo: VehicleConnection) -> None:
    baseline_check.ensure_demo_material("demo-car")
    baseline = baseline_check.find_baseline("demo-car", trust_policy.trust_store(SIM)).baseline
    assert demo.simulator is not None
    demo.simulator.fault("AIRBAG").stop_answering()
    scan = diagnose.scan(demo, discover=False)
    verdicts = {v.ecu: v.verdict for v in baseline_check.check(scan, baseline, [])}
    assert verdicts["AIRBAG"] == "missing"
    assert verdicts["ENGINE"] == "unapproved"  # 1.0.0 and no known package updates it


def test_demo_baseline_is_refused_off_the_simulator() -> None:
    baseline_check.ensure_demo_material("demo-car")
    # even when the technician names the demo PKI's store, a real adapter drops demo roots
    trust = trust_policy.trust_store(REAL, user_demo_pki().trust_dir)
    with pytest.raises(BaselineSelectionError) as err:
        baseline_check.find_baseline("demo-car", trust)
    assert "not a baseline root" in str(err.value)
    with pytest.raises(PackageError, match="not a baseline root"):
        baseline_check.find_baseline("demo-car", trust,
                                     path=next(baseline_check.baseline_store().iterdir()))


def test_cli_baseline_check_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["--channel", f"cli-{tmp_path.name}", "baseline", "check", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # not every ECU is approved
    assert out["vin"] == "WDXDEMC12RA000001" and len(out["ecus"]) == 7
    assert all(e["verdict"] == "outdated" for e in out["ecus"])
    assert out["warnings"] == [] and out["baseline"].endswith("demo-car-2026.11.baseline")


# -- B9: which baseline applies ------------------------------------------------------------

def test_cli_refuses_a_baseline_for_another_model(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    other = tmp_path / "truck.baseline"
    assert main(["baseline", "sign", str(_spec(tmp_path, "truck", "t1", None)),
                 "--out", str(other)]) == 0
    capsys.readouterr()
    code = main(["--channel", f"b9-{tmp_path.name}", "baseline", "check", "--baseline",
                 str(other), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 4 and "ecus" not in out
    assert out["message"] == ("baseline truck.baseline is for vehicle model 'truck', not for "
                              "'demo-car'")


def test_cli_picks_by_validity_date_and_skips_bad_files(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # every shipped vehicle has a shipped baseline: a vehicle model of its own ("rig", the
    # truck renamed) has none, so only these files compete
    rig = tmp_path / "rig.toml"
    rig.write_text((resources_dir() / "vehicles" / "truck.toml").read_text()
                   .replace('name = "truck"', 'name = "rig"', 1))
    _store("zzz-first.baseline", "rig", "2020", "2020-01-01", tmp_path)
    _store("aaa-second.baseline", "rig", "2024", "2024-06-01", tmp_path)
    (baseline_check.baseline_store() / "zzzz-broken.baseline").write_bytes(b"\x00not json")
    capsys.readouterr()
    main(["--vehicle", str(rig), "--channel", f"b9-{tmp_path.name}", "baseline", "check",
          "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["integration_level"] == "2024", out
    assert len(out["warnings"]) == 1 and out["warnings"][0].startswith(
        "skipped zzzz-broken.baseline: baseline check failed")


def _day(offset: int) -> str:
    return f"{dt.datetime.now(dt.UTC).date() + dt.timedelta(days=offset)}"


def test_newest_in_force_wins_and_future_ones_wait(tmp_path: Path) -> None:
    trust = TrustStore.load(user_demo_pki().trust_dir)
    _store("a.baseline", "demo-car", "old", _day(-400), tmp_path)
    _store("b.baseline", "demo-car", "new", _day(-10), tmp_path)
    _store("c.baseline", "demo-car", "future", _day(400), tmp_path)
    _store("d.baseline", "truck", "other-model", _day(-1), tmp_path)
    choice = baseline_check.find_baseline("demo-car", trust)
    assert choice.baseline.integration_level == "new" and choice.path.name == "b.baseline"
    assert choice.warnings == (f"skipped c.baseline: baseline c.baseline is valid only from "
                               f"{_day(400)} 00:00 UTC",)


def test_explicit_baseline_must_be_in_force(tmp_path: Path) -> None:
    trust = TrustStore.load(user_demo_pki().trust_dir)
    future = _store("f.baseline", "demo-car", "future", _day(30), tmp_path)
    with pytest.raises(BaselineSelectionError, match=f"valid only from {_day(30)}"):
        baseline_check.find_baseline("demo-car", trust, path=future)


def test_no_baseline_names_the_skipped_files(tmp_path: Path) -> None:
    trust = TrustStore.load(user_demo_pki().trust_dir)
    (baseline_check.baseline_store() / "empty.baseline").write_bytes(b"")
    _store("t.baseline", "truck", "x", None, tmp_path)
    with pytest.raises(BaselineSelectionError,
                       match=r"no approved baseline for vehicle model 'demo-car' \(1 file"):
        baseline_check.find_baseline("demo-car", trust)
