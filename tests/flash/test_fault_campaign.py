"""The fault campaign on a fixed set of seeds: each bootloader family (demo-car A/B and
single-bank, truck, van ECM/BSI/ADAS) under power loss at a step and an NRC at a step, and a
few of the other kinds (lost answer, stall, adapter loss, failed boot, kill -9); the script
runs any number of seeds (tools/fault_campaign.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.fault_campaign import FAMILIES, KINDS, run_case

F, K = len(FAMILIES), len(KINDS)
# seed = family + F * (kind + K * n): power loss (kind 0) and an NRC (kind 1) on every family
SEEDS = [f for f in range(F)] + [F + f for f in range(F)] + [
    2 * F + 0, 3 * F + 1, 4 * F + 4, 5 * F + 3, 6 * F + 5, 7 * F + 1, 8 * F + 5]


@pytest.mark.parametrize("seed", SEEDS)
def test_fault_leaves_a_bootable_ecu_a_true_verdict_and_a_complete_audit(
        seed: int, tmp_path: Path) -> None:
    r = run_case(seed, tmp_path)
    assert not r.bricked, r
    assert not r.verdict_wrong, r
    assert not r.audit_lost, r
    assert not r.record_wrong, r
    assert not r.intents_open, r
    if r.fault == "fail_boot":
        assert r.outcome in ("rolled_back", "resumable"), r
    if r.fault == "kill":
        assert r.detail.startswith("at "), r  # the child reached the step and was killed
