"""The fault campaign on a fixed set of seeds (tools/fault_campaign.py runs any number):
every bootloader family once, power loss and NRCs at a step, the adapter off the bus, kill -9
of the tool at a step, and resumes through an edited, deleted and symlinked journal (seven
seeds, about 30 s: the campaign runs the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.fault_campaign import run_case

# seed -> (family, fault kind, what it shows)
SEEDS = {
    0: ("demo-car ENGINE", "power_loss", "power loss at a step of an A/B ECU"),
    11: ("van ADAS", "nrc", "NRC at a step, resumed through a symlinked journal"),
    51: ("van ECM", "power_loss", "power loss, resumed through an edited journal"),
    86: ("truck ECU10", "adapter_loss",
         "adapter off the bus at the reset: the resume records the new version"),
    112: ("van BSI", "power_loss", "power loss, resumed with the journal deleted"),
    43: ("demo-car BODY", "kill", "kill -9 at the erase, the index edited first"),
    46: ("van BSI", "kill", "kill -9 at the last step: judged by the killed flash's records"),
}


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_fault_leaves_a_bootable_ecu_a_true_verdict_and_a_complete_audit(
        seed: int, tmp_path: Path) -> None:
    r = run_case(seed, tmp_path)
    family, fault, _what = SEEDS[seed]
    assert (r.family.startswith(family), r.fault) == (True, fault), r
    assert not r.bricked, r
    assert not r.verdict_wrong, r
    assert not r.audit_lost, r
    assert not r.record_wrong, r
    assert not r.intents_open, r
    if r.fault == "fail_boot":
        assert r.outcome in ("rolled_back", "resumable"), r
    if r.fault == "kill":
        assert r.detail.startswith("at "), r  # the child reached the step and was killed
