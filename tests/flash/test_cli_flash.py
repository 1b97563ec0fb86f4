"""`workshop flash` as a user runs it: a process per command, the simulator's state on disk
between them (as a real vehicle keeps it between two runs of the tool)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.flash.helpers import Update, build
from tests.integration.test_cli import run_cli

KEYS = {"ecu", "outcome", "version_before", "version_after", "mode", "bytes_on_bus",
        "duration_s"}


def test_dry_run_touches_nothing_then_flash_then_refuse_the_same_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    dry = run_cli(home, "flash", "engine-1.1.0", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    plan = doc["preparations"][0]["plan"]
    assert doc["dry_run"] and doc["ready"] and plan["ecus"][0]["ecu"] == "ENGINE"
    assert {c["check"] for c in plan["ecus"][0]["checks"]} >= {"hardware", "anti-rollback"}
    assert not (home / "sim" / "demo-car" / "flash").exists()  # nothing was written

    done = run_cli(home, "flash", "engine-1.1.0", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and len(result["ecus"]) == 1
    entry = result["ecus"][0]
    assert set(entry) >= KEYS
    assert (entry["outcome"], entry["version_before"], entry["version_after"]) == (
        "success", "1.0.0", "1.1.0")

    again = run_cli(home, "flash", "engine-1.1.0", "--yes")
    assert again.returncode == 1
    assert "installed 1.1.0 is not one this package updates from" in again.stdout
    assert "plan BLOCKED: nothing will be written" in again.stdout


def test_exit_code_follows_the_worst_ecu_and_resume_reports_nothing_left(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pkg = build(tmp_path, "two", [Update("ABS"), Update("BODY", hardware="WRONG-HW")])
    refused = run_cli(home, "flash", str(pkg), "--yes", "--json")
    assert refused.returncode == 1
    doc = json.loads(refused.stdout)
    assert not doc["ready"]
    nothing = run_cli(home, "flash", "resume")
    assert nothing.returncode == 0, nothing.stderr
    assert "no interrupted flash on demo-car" in nothing.stdout


def test_bad_override_and_unknown_package_are_clear_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = run_cli(home, "flash", "engine-1.1.0", "--override", "baseline")
    assert bad.returncode == 4 and "must be CHECK=REASON" in bad.stderr
    missing = run_cli(home, "flash", "no-such-package")
    assert missing.returncode == 4 and "no package 'no-such-package'" in missing.stderr
    assert "engine-1.1.0" in missing.stderr  # says which packages there are
