"""Issue 19: a description with a UDS DID (linear scaling, unit) and a DTC, written by odxtools
itself onto the somersault example (which has neither): the DID and the DTC text reach the
summary, `workshop describe` and the DataDescriptions that DTC details decode with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.vehicles.odx_builders import PDX, build
from workshop.cli import main
from workshop.vehicles.odx import load_description

__all__ = ["PDX", "build"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("odx") / "somersault_dids.pdx"
    build(PDX, out)
    return out


def test_did_and_dtc_reach_the_summary(built: Path) -> None:
    s = load_description(built).summary("somersault_lazy")  # inherited from the base variant
    (did,) = s.dids
    assert (did.did, did.service) == (0xF40C, "read_engine_speed")
    speed = {v.name: v for v in did.values}["engine_speed"]
    assert (speed.compu, speed.factor, speed.offset, speed.bit_length, speed.unit) == (
        "LINEAR", 0.25, 0.0, 16, "s")
    (dtc,) = s.dtcs
    assert (dtc.code, dtc.display, dtc.text) == (
        0x033500, "P0335", "Crankshaft position sensor circuit")


def test_data_descriptions_decode_the_did(built: Path) -> None:
    descriptions = load_description(built).data_descriptions("somersault_lazy")
    d = descriptions.did(0xF40C)
    assert d is not None and (d.size, d.name, d.unit, d.scale) == (2, "engine_speed", "s", 0.25)
    assert d.text(bytes.fromhex("0BB8")) == "750 s"
    assert descriptions.did(0x9000) is None and descriptions.extended_record(1) is None


def test_describe_shows_them(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", str(built)]) == 0
    out = capsys.readouterr().out
    assert "0xF40C read_engine_speed: engine_speed (A_FLOAT64 x0.25+0 s)" in out
    assert "P0335 crank_sensor: Crankshaft position sensor circuit" in out
    assert main(["describe", str(built), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant"]["dids"][0]["did"] == 0xF40C
    assert doc["variant"]["dtcs"][0]["display"] == "P0335"


def test_description_text_is_shown_without_control_characters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # an OEM text with a right-to-left override (XML allows it; a terminal obeys it)
    out = tmp_path / "bidi.pdx"
    build(PDX, out, dtc_text="Crank \u202eevil\u202c sensor")
    assert main(["describe", str(out)]) == 0
    text = capsys.readouterr().out
    assert "\u202e" not in text and "Crank \\u202eevil\\u202c sensor" in text


def test_flash_sessions_from_odx_f(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flash.pdx"
    build(PDX, out, flash=True)
    (session,) = load_description(out).flash_sessions
    assert (session.name, session.ecu_mem) == ("update_app", "somersault_mem")
    assert session.expected_idents == {"hw": ["HW-A"]}
    (block,) = session.blocks
    assert (block.name, block.data_type, block.logical_block_index, block.flashdata) == (
        "application", "CODE", 1, "app_data")
    assert [(x.start, x.size) for x in block.segments] == [(0x8000, 16)]
    assert block.own_idents == {"new_version": "1.1.0"}
    assert main(["describe", str(out)]) == 0
    text = capsys.readouterr().out
    assert "update_app (somersault_mem) expects hw HW-A" in text
    assert "block application (CODE) from app_data: 0x8000+16; becomes new_version 1.1.0" in text


def test_extended_data_records_from_the_0x19_06_services(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ecu.pdx"
    build(PDX, out, ecu=True)
    descriptions = load_description(out).data_descriptions("somersault_lazy")
    odometer = descriptions.extended_record(0x10)
    assert odometer is not None and (odometer.size, odometer.name, odometer.unit) == (
        2, "odometer_at_first_failure", "km")
    assert odometer.text(bytes.fromhex("000C")) == "120 km"
    assert descriptions.extended_record(2) is None  # no service describes it
    assert main(["describe", str(out)]) == 0
    text = capsys.readouterr().out
    assert "record 16 (0x10): odometer_at_first_failure (A_FLOAT64 x10+0 km)" in text
    assert main(["describe", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant"]["extended"]["1"][0]["name"] == "occurrence_counter"
