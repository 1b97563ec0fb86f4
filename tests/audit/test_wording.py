"""Audit details as sentences (`audit show`, the app, the report): never a dict or JSON."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli import run_cli
from workshop.audit.wording import describe_record


def test_flash_outcome_reads_as_a_sentence() -> None:
    details = {"phase": "outcome", "outcome": "success", "result": {
        "package": "demo-car-engine-1.1.0", "duration_s": 12.34, "ecus": [
            {"ecu": "ENGINE", "outcome": "success", "version_before": "1.0.0",
             "version_after": "1.1.0", "duration_s": 12.3}]}}
    assert describe_record("flash", details) == (
        "success, 12.3 s, package demo-car-engine-1.1.0; ENGINE 1.0.0 → 1.1.0, success, 12.3 s")


def test_unknown_actions_and_odd_shapes_are_still_words() -> None:
    text = describe_record("identity.created", {"workstation": "ws-1", "keys": {"a": [1, 2]}})
    assert text == "workstation: ws-1, keys: a 1, 2"
    assert describe_record("flash", {"phase": "outcome", "result": "broken"}) == "result: broken"


def test_audit_show_prints_no_python_dicts(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert run_cli(home, "dtc", "clear", "--ecu", "ENGINE", "--yes").returncode == 0
    shown = run_cli(home, "audit", "show")
    assert shown.returncode == 0, shown.stderr
    assert "about to clear DTCs (physical request)" in shown.stdout
    assert "success: ENGINE cleared" in shown.stdout
    assert "{" not in shown.stdout and "'" not in shown.stdout
