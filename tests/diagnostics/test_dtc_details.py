"""DTC data in words and units: status bits with their meaning, snapshot values by name and
unit from the vehicle definition, extended records split and named; raw hex only on request."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.diagnostics.dtc_details import describe, detail_lines, status_words
from workshop.foundation.errors import ConfigError
from workshop.foundation.paths import resources_dir
from workshop.services import diagnose
from workshop.services.connection import VehicleConnection
from workshop.uds.dtc_records import Dtc
from workshop.vehicles import load_vehicle
from workshop.vehicles.data_ids import DataDescription, TableDescriptions


def test_status_in_words() -> None:
    assert status_words(0x2F) == ("failing now, failed this drive cycle, pending, confirmed, "
                                  "failed since clear")
    assert status_words(0x88) == "confirmed, warning lamp on"
    assert status_words(0) == "no fault bit set"


def test_the_demo_engine_dtc_read_over_the_bus(demo: VehicleConnection) -> None:
    scan = diagnose.read_dtcs(demo, only=["ENGINE"])
    dtc = next(d for d in scan.ecus[0].dtcs if d.code == "P030100")
    d = describe("ENGINE", dtc, demo.vehicle.descriptions)
    assert [b.words for b in d.bits if b.set] == ["failing now", "failed this drive cycle",
                                                 "pending", "confirmed", "failed since clear"]
    values = {v.label: v.text for s in d.snapshots for v in s.values}
    assert values == {"Engine speed (0x9000)": "3000 rpm",
                      "Coolant temperature (0x9001)": "50 °C"}
    # the ECU answers "all records" (0xFF) as one blob: the definition's sizes split it
    assert [(v.label, v.text) for v in d.extended] == [
        ("Occurrence counter (record 1)", "3"), ("Aging counter (record 2)", "10 cycles")]
    text = "\n".join(detail_lines(d))
    assert "0BB8" not in text and "0x2F" not in text and "5A" not in text
    assert "confirmed: failed often enough" in text
    raw = "\n".join(detail_lines(d, raw=True))
    assert "(0x2F)" in raw and "[raw 0BB8]" in raw and "[raw 0A]" in raw


def test_without_a_description_the_bytes_stay_hex() -> None:
    dtc = Dtc(0x030100, 0x08, snapshots={1: {"0x9002": "0102", "raw": "9003FF"}},
              extended={0xFF: "01030999"})
    source = TableDescriptions({0x9002: DataDescription(2)},
                               {1: DataDescription(1, "Occurrence counter")})
    d = describe("X", dtc, source)
    assert [(v.label, v.text) for v in d.snapshots[0].values] == [
        ("DID 0x9002", "(undescribed) 0102"),
        ("undecoded rest of the record", "(undescribed) 9003FF")]
    assert [(v.label, v.text) for v in d.extended] == [
        ("Occurrence counter (record 1)", "3"), ("undecoded records (0xFF)", "(undescribed) 0999")]


def test_scaling_and_signed_values() -> None:
    d = DataDescription(2, "Torque", "Nm", scale=0.5, offset=0, signed=True)
    assert d.text(bytes.fromhex("FFFE")) == "-1 Nm"
    assert DataDescription(1, "Voltage", "V", scale=0.1).text(b"\x7B") == "12.3 V"
    assert d.text(b"\x01") is None  # wrong length: shown as hex


@pytest.mark.parametrize("table, message", [
    ('"9000" = { name = "x" }', "snapshot_dids.9000.size is missing"),
    ('"9000" = { size = 2, units = "rpm" }', "unknown key(s) units"),
    ('"9000" = { size = 2, scale = "fast" }', "snapshot_dids.9000.scale must be a number"),
    ('"9000" = "2"', "must be a size (integer) or a table"),
])
def test_a_bad_description_is_named(tmp_path: Path, table: str, message: str) -> None:
    text = (resources_dir() / "vehicles" / "demo-car.toml").read_text(encoding="utf-8")
    start = text.index("[snapshot_dids]")
    end = text.index("[extended_records]")
    path = tmp_path / "bad.toml"
    path.write_text(text[:start] + "[snapshot_dids]\n" + table + "\n\n" + text[end:],
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_vehicle(path)
