"""Every vehicle command over Diagnostics over IP: `--adapter sim-doip` starts the simulated
vehicle behind its DoIP gateway on 127.0.0.1 and the command reaches it over TCP. In process
(one simulator per command, its state on disk between commands, as a car keeps it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.flash.helpers import Update, build
from tests.integration.doip_helpers import GatewayFault, gateway_faults
from tests.integration.test_scan_results import HIDDEN_ECU
from tests.integration.vehicles import demo_variant
from workshop.cli import main
from workshop.services import audit_trail, diagnose
from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import SIM_DOIP, AdapterConfig
from workshop.vehicles import load_vehicle

DOIP = ["--adapter", "sim-doip"]
__all__ = ["gateway_faults"]  # the fixture


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def versions(capsys: pytest.CaptureFixture[str], *pre: str) -> dict[str, str]:
    code, out, err = run(capsys, *pre, "scan", "--json")
    assert code == 0, err
    return {e["name"]: e["identification"]["ecuSoftwareVersion"]
            for e in json.loads(out)["ecus"]}


def audit(action: str) -> list[dict]:
    records, _ = audit_trail.recent_records(1000)
    return [dict(r.details, ecu=r.ecu) for r in records if r.action == action]


def test_scan_finds_every_ecu_through_the_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *DOIP, "scan", "--json")
    assert code == 0, err
    ecus = json.loads(out)["ecus"]
    assert len(ecus) == 7 and all(e["responded"] for e in ecus)
    # every ECU also answered the functional TesterPresent sent to 0xE400
    assert {e["source"] for e in ecus} == {"definition+discovered"}
    assert {e["name"]: len(e["dtcs"]) for e in ecus}["ENGINE"] == 2


def test_discovery_finds_an_ecu_missing_from_the_definition(tmp_path: Path) -> None:
    """Its answer comes from a logical address the definition does not list (after 0x78):
    it is scanned at that address."""
    simulated = load_vehicle(demo_variant(tmp_path, "demo-plus", HIDDEN_ECU))
    with VehicleConnection(AdapterConfig(interface=SIM_DOIP, channel=str(tmp_path)),
                           load_vehicle("demo-car"), simulated=simulated) as conn:
        result = diagnose.scan(conn)
    hidden = next(e for e in result.ecus if e.source == "discovered")
    assert hidden.name == "ECU@17E7" and hidden.responded, hidden.error
    assert hidden.address == "DoIP logical address 0x17E7"
    assert hidden.identity.part_number == "HID-900-1"


def test_ecu_info_dtc_read_and_clear(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *DOIP, "ecu", "info", "ENGINE")
    assert code == 0, err
    assert "5Q0-901-101-A" in out and "WDXDEMC12RA000001" in out

    code, out, err = run(capsys, *DOIP, "dtc", "read", "--json")
    assert code == 0, err
    before = {e["name"]: {d["code"] for d in e["dtcs"]} for e in json.loads(out)["ecus"]}
    assert before["TRANSMISSION"] == {"P070000"} and "P017100" in before["ENGINE"]

    code, out, err = run(capsys, *DOIP, "dtc", "clear", "--all", "--yes")
    assert code == 0, err
    code, out, err = run(capsys, *DOIP, "dtc", "read", "--json")
    after = {e["name"]: {d["code"] for d in e["dtcs"]} for e in json.loads(out)["ecus"]}
    assert after["TRANSMISSION"] == set()  # stored only: cleared for good
    assert "P017100" not in after["ENGINE"]
    assert after["ENGINE"] == {"P030100"}  # failing now: the ECU stores it again
    cleared = audit("dtc.clear")
    assert cleared[0]["request"]["addressing"] == "functional"
    assert cleared[-1]["phase"] == "outcome", cleared[-1]


def test_baseline_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *DOIP, "baseline", "check")
    assert "ENGINE" in out and "outdated" in out and "engine-1.1.0" in out, err
    assert (code, out) == run(capsys, "baseline", "check")[:2]  # as over CAN


def test_flash_the_demo_car_and_a_van_family(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *DOIP, "flash", "engine-1.1.0", "--yes", "--json")
    assert code == 0, err + out
    entry = json.loads(out)["ecus"][0]
    assert (entry["ecu"], entry["outcome"], entry["version_after"]) == (
        "ENGINE", "success", "1.1.0")
    assert versions(capsys)["ENGINE"] == "1.1.0"  # over CAN: the ECU itself changed
    outcomes = [r for r in audit("flash.ecu") if r.get("phase") == "outcome"]
    assert outcomes[-1]["outcome"] == "success" and outcomes[-1]["ecu"] == "ENGINE"

    van = ["--vehicle", "van", *DOIP]
    code, out, err = run(capsys, *van, "flash", "van-bsi-1.1.0", "--yes", "--json",
                         "--override", "rollback=test")  # PSA-style bootloader
    assert code == 0, err + out
    assert json.loads(out)["ecus"][0]["outcome"] == "success"
    assert versions(capsys, "--vehicle", "van")["BSI"] == "1.1.0"


def test_resume_over_doip_after_a_tcp_reset_mid_flash(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        gateway_faults: list[GatewayFault]) -> None:
    pkg = build(tmp_path, "new", [Update("BODY", size=30000)])
    gateway_faults.append(lambda gw: gw.faults.reset_at(0x36, 2))  # the 2nd TransferData
    code, out, err = run(capsys, *DOIP, "flash", str(pkg), "--yes", "--json",
                         "--override", "rollback=test")
    entry = json.loads(out)["ecus"][0]
    assert entry["outcome"] == "resumable", entry
    assert code != 0
    gateway_faults.clear()
    code, out, err = run(capsys, *DOIP, "flash", "resume", "--yes", "--json")
    assert code == 0, err + out
    assert versions(capsys)["BODY"] == "1.1.0"
    outcomes = [r for r in audit("flash.ecu") if r.get("phase") == "outcome"]
    assert [r["outcome"] for r in outcomes if r["ecu"] == "BODY"] == ["resumable", "success"]
