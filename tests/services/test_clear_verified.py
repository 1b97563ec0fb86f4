"""DTC clears are verified per ECU by reading the DTCs again, and audited per ECU."""

from __future__ import annotations

from typing import Any

from workshop.audit import AuditLog
from workshop.foundation.events import EcuFinished, Event
from workshop.services import diagnose
from workshop.services.audit_trail import open_audit_log
from workshop.services.connection import VehicleConnection


def _outcome(log: AuditLog) -> dict[str, Any]:
    last = list(log.records())[-1]
    assert last.details["phase"] == "outcome"
    return dict(last.details)


def test_clear_all_with_one_refusing_ecu_is_a_failure(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("BODY").answer_with_nrc(0x14, 0x22)
    events: list[Event] = []
    with open_audit_log(simulated=True) as log:
        results = {r.ecu: r for r in diagnose.clear_all(demo, log, events=events.append)}
        outcome = _outcome(log)
    assert not results["BODY"].ok and "NRC 0x22" in results["BODY"].detail
    assert results["BODY"].remaining == ["B100113"]  # still stored: the clear was refused
    assert all(r.ok for n, r in results.items() if n != "BODY")
    assert results["ENGINE"].remaining == ["P030100"]  # still present, set again at once
    assert outcome["outcome"] == "failure"
    per_ecu = outcome["result"]["ecus"]
    assert set(per_ecu) == {e.name for e in demo.vehicle.ecus}
    assert per_ecu["BODY"]["ok"] is False and per_ecu["ABS"]["ok"] is True
    assert per_ecu["ENGINE"]["remaining"] == ["P030100"]
    assert sorted(e.ecu for e in events if isinstance(e, EcuFinished)) == sorted(per_ecu)


def test_clear_all_success_is_recorded_per_ecu(demo: VehicleConnection) -> None:
    with open_audit_log(simulated=True) as log:
        results = diagnose.clear_all(demo, log)
        outcome = _outcome(log)
    assert all(r.ok for r in results)
    assert outcome["outcome"] == "success"
    assert all(v["ok"] for v in outcome["result"]["ecus"].values())


def test_clear_one_ecu_is_verified(demo: VehicleConnection) -> None:
    with open_audit_log(simulated=True) as log:
        result = diagnose.clear_ecu(demo, "ENGINE", log)
        outcome = _outcome(log)
    assert result.ok and result.remaining == ["P030100"]
    assert outcome["outcome"] == "success"
    assert outcome["result"]["ecus"]["ENGINE"] == {
        "ok": True, "detail": "cleared", "remaining": ["P030100"]}


def test_clear_one_ecu_that_cannot_be_verified_is_a_failure(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ABS").answer_with_nrc(0x19, 0x22)  # clears, then refuses the re-read
    with open_audit_log(simulated=True) as log:
        result = diagnose.clear_ecu(demo, "ABS", log)
        outcome = _outcome(log)
    assert not result.ok and "could not verify" in result.detail
    assert outcome["outcome"] == "failure"
    assert outcome["result"]["ecus"]["ABS"]["ok"] is False
