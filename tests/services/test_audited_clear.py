"""Clearing DTCs writes an audit intent before and an outcome after, over the real stack."""

from __future__ import annotations

import pytest

from workshop.audit import AuditLog
from workshop.services import diagnose
from workshop.services.audit_trail import open_audit_log
from workshop.services.connection import VehicleConnection
from workshop.uds.errors import EcuTimeoutError


def _records(log: AuditLog) -> list[dict[str, object]]:
    return [{"action": r.action, "ecu": r.ecu, "vin": r.vin, "technician": r.technician,
             **r.details} for r in log.records()]


def test_clear_one_ecu_is_bracketed(demo: VehicleConnection) -> None:
    with open_audit_log(simulated=True) as log:
        result = diagnose.clear_ecu(demo, "engine", log)
        recs = _records(log)
        assert log.check().ok
    assert result.ok
    assert [r["phase"] for r in recs] == ["intent", "outcome"]
    assert recs[0]["vin"] == "WDXDEMC12RA000001" and recs[0]["ecu"] == "ENGINE"
    assert recs[0]["technician"] == "tech-42"
    assert recs[1]["outcome"] == "success" and recs[1]["intent_seq"] == 1


def test_failed_clear_records_the_failure(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    with open_audit_log(simulated=True) as log:
        demo.simulator.fault("ENGINE").stop_answering()
        with pytest.raises(EcuTimeoutError):
            diagnose.clear_ecu(demo, "ENGINE", log)
        recs = _records(log)
    assert recs[-1]["phase"] == "outcome" and recs[-1]["outcome"] == "failure"
    assert "did not answer" in str(recs[-1]["error"])


def test_clear_all_lists_each_ecu_and_keeps_present_faults(
        demo: VehicleConnection) -> None:
    with open_audit_log(simulated=True) as log:
        results = diagnose.clear_all(demo, log)
        recs = _records(log)
    assert all(r.ok for r in results) and len(results) == 7
    assert recs[0]["ecu"] == "*" and recs[1]["outcome"] == "success"
    after = diagnose.scan(demo, discover=False)
    present = {e.name: [d.code for d in e.dtcs] for e in after.ecus if e.dtcs}
    assert present == {"ENGINE": ["P030100"], "ABS": ["C003504"], "GATEWAY": ["U010087"]}
