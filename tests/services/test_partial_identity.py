"""An ECU that refuses some identification DIDs keeps the rest, and the baseline check says
which DID it could not read instead of calling the ECU missing."""

from __future__ import annotations

from workshop.services import baseline_check, diagnose, trust_policy
from workshop.services.connection import VehicleConnection

CONDITIONS = "NRC 0x22 conditionsNotCorrect"


def test_identity_keeps_what_was_read(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").answer_with_nrc(0x22, 0x22, times=1)  # the first DID: F187
    with demo.client("ENGINE") as ecu:
        identity = ecu.read_identity()
    assert identity.failed == {0xF187: CONDITIONS}
    assert identity.software_version == "1.0.0" and identity.hardware_number == "DC-ENG-HW-100"
    assert 0xF187 not in identity.values


def test_scan_json_lists_failed_dids(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").answer_with_nrc(0x22, 0x22, times=1)
    engine = next(e for e in diagnose.scan(demo, discover=False).to_json()["ecus"]
                  if e["name"] == "ENGINE")
    assert engine["responded"] and engine["software_version"] == "1.0.0"
    assert engine["identification_failed"] == {"sparePartNumber": CONDITIONS}


def _verdicts(demo: VehicleConnection) -> dict[str, tuple[str, str]]:
    baseline_check.ensure_demo_material("demo-car")
    trust = trust_policy.trust_store(demo.adapter)
    baseline = baseline_check.find_baseline("demo-car", trust).baseline
    packages = baseline_check.known_packages(trust)
    scan = diagnose.scan(demo, discover=False)
    return {v.ecu: (v.verdict, v.detail)
            for v in baseline_check.check(scan, baseline, packages)}


def test_refused_did_not_needed_by_the_baseline_keeps_the_verdict(
        demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").answer_with_nrc(0x22, 0x22, times=1)
    assert _verdicts(demo)["ENGINE"][0] == "outdated"


def test_baseline_names_the_did_it_could_not_read(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    # F187, F189, F195, F191 refused: neither software version nor hardware number is known.
    demo.simulator.fault("ENGINE").answer_with_nrc(0x22, 0x22, times=4)
    verdict, detail = _verdicts(demo)["ENGINE"]
    assert verdict == "incomplete"
    assert "0xF191" in detail and "0xF189" in detail and CONDITIONS in detail
    assert "not found" not in detail
