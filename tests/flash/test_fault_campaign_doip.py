"""The fault campaign's DoIP cases on a fixed set of seeds (tools/fault_campaign.py --doip
runs any number): a TCP reset mid-flash, a gateway restart at a step and slow answers, on ECUs
behind the gateway and on the Ethernet ECU it serves itself; each ends with a bootable ECU,
a verdict that matches it and a complete audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.fault_campaign_doip import run_doip_case

# seed -> (family, fault kind)
SEEDS = {
    0: ("ENGINE behind the gateway", "tcp_reset"),
    3: ("HEADUNIT on Ethernet", "tcp_reset"),
    5: ("BODY behind the gateway", "gateway_restart"),
    7: ("HEADUNIT on Ethernet", "gateway_restart"),
    10: ("van BSI behind the gateway", "slow_answers"),
}


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_doip_fault_leaves_a_bootable_ecu_a_true_verdict_and_a_complete_audit(
        seed: int, tmp_path: Path) -> None:
    r = run_doip_case(seed, tmp_path)
    family, fault = SEEDS[seed]
    assert (r.family.startswith(family), r.fault) == (True, fault), r
    assert not r.bricked, r
    assert not r.verdict_wrong, r
    assert not r.audit_lost, r
    assert not r.record_wrong, r
    assert not r.intents_open, r
