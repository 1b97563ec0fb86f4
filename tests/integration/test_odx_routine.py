"""`workshop routine`: a routine of an ECU described by its PDX alone, run over the simulated
bus (the simulated ECU answers from the same PDX): parameters encoded by name, the answer
decoded into named values with units, the audit bracket, refusals in words."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest

from tests.integration.test_odx_new_ecu import TOML
from tests.vehicles.odx_ecu_builder import build_new_ecu
from workshop.cli import EXIT_INPUT, EXIT_OK, EXIT_VEHICLE, main


@pytest.fixture(scope="module")
def pdx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("routine") / "sault.pdx"
    build_new_ecu(out)
    return out


@pytest.fixture
def vehicle(tmp_path: Path, pdx: Path) -> Path:
    (tmp_path / "sault.pdx").write_bytes(pdx.read_bytes())
    path = tmp_path / "sault-car.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], vehicle: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--channel", f"routine-{uuid.uuid4()}", "--vehicle", str(vehicle), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def audit(capsys: pytest.CaptureFixture[str], vehicle: Path) -> list[dict[str, object]]:
    code, out, err = run(capsys, vehicle, "audit", "show", "--json")
    if code == EXIT_INPUT and "audit log not found" in out + err:
        return []  # nothing was ever recorded
    assert code == EXIT_OK, out
    return [r for r in json.loads(out) if r["action"] == "routine.run"]


def test_a_routine_runs_by_name_and_its_result_is_named_values_with_units(
        vehicle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, vehicle, "routine", "SAULT", "measure_injector", "cylinder=2",
                         "--yes")
    assert code == EXIT_OK, out + err
    assert "SAULT: routine measure_injector done (variant somersault_lazy)" in out
    assert "flow_rate" in out and "12.5 mg" in out
    assert "result" in out and "within limits" in out
    code, out, err = run(capsys, vehicle, "routine", "SAULT", "measure_injector", "cylinder=4",
                         "--yes", "--json")
    assert code == EXIT_OK, out + err
    doc = json.loads(out)
    assert doc["request"] == "3101021104"  # cylinder 4, encoded by odxtools
    assert doc["values"] == [
        {"name": "flow_rate", "value": 12.5, "unit": "mg", "text": "12.5 mg"},
        {"name": "result", "value": "within limits", "unit": "", "text": "within limits"}]
    intent, outcome = audit(capsys, vehicle)[-2:]
    assert intent["ecu"] == "SAULT" and intent["details"]["phase"] == "intent"
    assert intent["details"]["request"] == {
        "routine": "measure_injector", "parameters": {"cylinder": "4"},
        "variant": "somersault_lazy", "request": "3101021104"}
    assert outcome["details"]["outcome"] == "success"
    assert outcome["details"]["intent_seq"] == intent["seq"]
    assert outcome["details"]["result"]["values"] == {"flow_rate": "12.5 mg",
                                                      "result": "within limits"}


@pytest.mark.parametrize(("args", "words"), [
    (("no_such_routine",), "SAULT: no routine 'no_such_routine' in its description"),
    (("measure_injector",), "routine measure_injector needs cylinder"),
    (("measure_injector", "cylinder=2", "nozzle=1"),
     "routine measure_injector takes no parameter 'nozzle'"),
    (("measure_injector", "cylinder=9"), "cylinder=9 is out of range"),
    (("measure_injector", "cylinder=two"), "cylinder='two' is not a number"),
])
def test_what_the_description_does_not_allow_is_refused_in_words_and_nothing_is_sent(
        vehicle: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
        words: str) -> None:
    code, out, err = run(capsys, vehicle, "routine", "SAULT", *args, "--yes")
    assert code == EXIT_INPUT, out + err
    assert words in err
    assert audit(capsys, vehicle) == []  # refused before any intent: nothing ran


def test_an_ecu_refusing_a_routine_is_said_in_words_and_audited(
        vehicle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, vehicle, "routine", "SAULT", "reset_adaptations", "--yes")
    assert code == EXIT_VEHICLE, out + err
    assert "SAULT refused routine reset_adaptations (0x31): NRC 0x31" in err
    assert "requestOutOfRange" in err or "out of range" in err.lower()
    intent, outcome = audit(capsys, vehicle)[-2:]
    assert intent["details"]["phase"] == "intent"
    assert outcome["details"]["outcome"] == "refused"
    assert "NRC 0x31" in outcome["details"]["error"]


def test_without_yes_the_technician_is_asked_and_no_runs_nothing(
        vehicle: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, _, err = run(capsys, vehicle, "routine", "SAULT", "measure_injector", "cylinder=2")
    assert "Run routine measure_injector cylinder=2 on SAULT?" in err
    assert "nothing run" in err and code != EXIT_OK
    assert audit(capsys, vehicle) == []
