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
from tests.simulator.bench import FrameCounter
from workshop.foundation.events import Event, LinkProblem
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.uds.client import EXTENDED_SESSION, PROGRAMMING_SESSION, EcuClient
from workshop.uds.errors import NegativeResponseError


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


def test_raw_services_skip_a_late_answer_and_map_refusals(demo: VehicleConnection) -> None:
    """The raw path (ReadDTCInformation, TransferData, multi-DID reads) has the same rules:
    a late answer to another service is reported and skipped, 0x78 keeps it waiting, and a
    refusal is a NegativeResponseError with the ECU's code."""
    assert demo.simulator is not None and demo.endpoint is not None
    problems: list[Event] = []
    faults = demo.simulator.fault("ENGINE")
    faults.late_nrc(0x28, 0x22)
    target = demo.target(demo.vehicle.ecu("ENGINE"))
    with EcuClient(demo.endpoint, target, events=problems.append) as ecu:
        expected = ecu.read_did(0xF188)
        ecu.change_session(EXTENDED_SESSION)
        demo.functional(b"\x28\x81\x01", window_s=0.0)
        records = ecu.read_dids_raw((0xF188,))  # the 7F 28 22 arrives while this waits
        assert records == b"\xf1\x88" + expected
        # slower than P2: the ECU says 0x78 first, and the client waits on with P2*
        faults.respond_slowly(demo.vehicle.ecu("ENGINE").p2_ms + 100)
        pending = FrameCounter(demo.endpoint, target.address.response_id, b"\x03\x7f\x22\x78")
        assert ecu.read_dids_raw((0xF188,)) == records
        assert pending.count >= 1
        faults.respond_slowly(0)
        faults.answer_with_nrc(0x19, 0x22, times=1)
        with pytest.raises(NegativeResponseError) as refused:
            ecu.read_dtcs()
        assert (refused.value.sid, refused.value.nrc) == (0x19, 0x22)
    late = [p for p in problems if isinstance(p, LinkProblem) and p.task == "late answer"]
    assert len(late) == 1 and "ENGINE" in late[0].message
