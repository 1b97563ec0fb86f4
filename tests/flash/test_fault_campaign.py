"""The fault campaign on a fixed set of seeds (two of each fault kind); the script runs any
number of them (tools/fault_campaign.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.fault_campaign import FAULTS, run_case, run_kill_case


@pytest.mark.parametrize("seed", range(2 * len(FAULTS)))
def test_fault_leaves_a_bootable_ecu_a_true_verdict_and_a_complete_audit(
        seed: int, tmp_path: Path) -> None:
    r = run_case(seed, tmp_path)
    assert not r.bricked, r
    assert not r.verdict_wrong, r
    assert not r.audit_lost, r
    if r.fault == "power_loss":
        assert r.outcome in ("resumable", "failed", "success") and r.resumed in (None, "success")
    if r.fault == "fail_boot":
        assert r.outcome == "rolled_back", r


@pytest.mark.parametrize("seed", [0])  # BODY (single bank), killed at its memory check
def test_kill_9_of_the_tool_leaves_no_open_intent_and_a_true_record(seed: int,
                                                                     tmp_path: Path) -> None:
    """One kill -9 case of the campaign (a child process each; the script runs many)."""
    r = run_kill_case(seed, tmp_path)
    assert r.detail.startswith("at "), r  # the child reached the step and was killed there
    assert not r.bricked and not r.verdict_wrong and not r.audit_lost and not r.intents_open, r
