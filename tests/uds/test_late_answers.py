"""A late answer to another service is skipped, never taken as the answer in progress.

ISO 14229-1 lets an ECU refuse a functional request sent with the suppress bit
(`28 81 01`) with an NRC such as 0x22; such a refusal can arrive while the tester already
waits for its next request. The simulator's `late_nrc` fault sends it exactly then.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.flash.helpers import Update, build
from workshop.foundation.events import Event, LinkProblem
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.uds.client import EXTENDED_SESSION, PROGRAMMING_SESSION, EcuClient


def test_late_refusal_of_the_functional_comm_off_does_not_end_a_flash(
        demo: VehicleConnection, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").late_nrc(0x28, 0x22)
    pkg = build(tmp_path, "late-nrc", [Update("ENGINE")])
    prep = prepare_flash(demo, pkg, only=["ENGINE"], overrides={"rollback": "test"})
    assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
    with caplog.at_level(logging.WARNING, logger="workshop.uds.client"):
        result = run_flash(demo, prep)
    outcome = result.ecus[0]
    assert outcome.outcome == "success", outcome.detail
    assert demo.simulator.ecus["ENGINE"].flash.version() == "1.1.0"
    assert any("late answer to service 0x28 (NRC 0x22" in r.getMessage()
               for r in caplog.records)


def test_late_answer_is_reported_and_the_real_answer_taken(demo: VehicleConnection) -> None:
    assert demo.simulator is not None and demo.endpoint is not None
    problems: list[Event] = []
    demo.simulator.fault("ENGINE").late_nrc(0x28, 0x22)
    target = demo.target(demo.vehicle.ecu("ENGINE"))
    with EcuClient(demo.endpoint, target, events=problems.append) as ecu:
        ecu.change_session(EXTENDED_SESSION)
        demo.functional(b"\x28\x81\x01", window_s=0.0)
        ecu.change_session(PROGRAMMING_SESSION)  # the 7F 28 22 arrives while this waits
    late = [p for p in problems if isinstance(p, LinkProblem) and p.task == "late answer"]
    assert len(late) == 1 and "ENGINE" in late[0].message
