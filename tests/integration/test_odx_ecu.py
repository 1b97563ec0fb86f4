"""Issue 19: a simulated ECU whose definition names a PDX (written by the tests' builder with
odxtools). The TOML gives only what the simulator serves (bytes); names, units, text tables,
DTC texts, snapshot layout and the variant come from the PDX alone, over the real stack."""

from __future__ import annotations

import json
import logging
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.conftest import unique_adapter
from tests.vehicles.test_odx_built import PDX, build
from workshop.cli import main
from workshop.foundation.errors import ConfigError
from workshop.foundation.logs import configure
from workshop.services.connection import VehicleConnection
from workshop.vehicles import load_vehicle

# F1B0 = 0x5A: 90 - 40 = 50 °C; F1B1 = 2: "running" (somersault_lazy's pattern)
TOML = """name = "odx-car"
[bus]
bitrate = 500000
[[ecus]]
name = "SAULT"
request_id = 123
response_id = 456
odx = "{odx}"
{extra}
[ecus.identification]
F187 = "SAULT-1"
F189 = "1.0.0"
F1B0 = {{ hex = "5A" }}
F1B1 = {{ hex = "{mode}" }}
F1B2 = {{ hex = "0102" }}
[[ecus.dtcs]]
code = "P033500"
status = 0x09
{dtc_text}
[[ecus.dtcs.snapshots]]
record = 1
dids = {{ "F40C" = "0BB8", "F1B0" = "5A" }}
{tables}
"""


@pytest.fixture(scope="module")
def pdx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("odx") / "sault.pdx"
    build(PDX, out, ecu=True)
    return out


def definition(folder: Path, pdx: Path, *, odx: str = "sault.pdx", extra: str = "",
               mode: str = "02", dtc_text: str = "", tables: str = "") -> Path:
    if pdx != folder / "sault.pdx":
        (folder / "sault.pdx").write_bytes(pdx.read_bytes())
    path = folder / "odx-car.toml"
    path.write_text(TOML.format(odx=odx, extra=extra, mode=mode, dtc_text=dtc_text,
                                tables=tables), encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], vehicle: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--channel", f"odx-{uuid.uuid4()}", "--vehicle", str(vehicle), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_ecu_info_decodes_identification_from_the_pdx(
        tmp_path: Path, pdx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vehicle = definition(tmp_path, pdx)
    code, out, _ = cli(capsys, vehicle, "ecu", "info", "SAULT")
    assert code == 0, out
    assert "description sault.pdx, variant somersault_lazy (identified from its answers)" in out
    assert "coolant_temperature (0xF1B0)" in out and "50 °C" in out
    assert "operating_mode (0xF1B1)" in out and "running" in out
    assert "sparePartNumber" in out and "SAULT-1" in out
    code, out, _ = cli(capsys, vehicle, "ecu", "info", "SAULT", "--json")
    doc = json.loads(out)
    assert doc["identification"]["coolant_temperature (0xF1B0)"] == "50 °C"
    assert doc["identification"]["operating_mode (0xF1B1)"] == "running"
    assert doc["description"] == {
        "file": "sault.pdx", "variant": "somersault_lazy", "identified": True, "assumed": None,
        "conflicts": [], "sessions": ["session_start (1000)", "session_stop (1001)"],
        "security": [], "routines": ["schroedinger"]}


def test_dtc_read_shows_texts_and_snapshot_from_the_pdx(
        tmp_path: Path, pdx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vehicle = definition(tmp_path, pdx)
    code, out, _ = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT")
    assert code == 0, out
    assert "P033500  Crankshaft position sensor circuit" in out
    assert "engine_speed (0xF40C): 750 rpm" in out
    assert "coolant_temperature (0xF1B0): 50 °C" in out
    assert "(undescribed)" not in out
    code, out, _ = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT", "--json")
    (ecu,) = json.loads(out)["ecus"]
    (dtc,) = ecu["dtcs"]
    assert ecu["variant"] == "somersault_lazy"
    assert dtc["text"] == "Crankshaft position sensor circuit"
    values = {v["label"]: v["value"] for v in dtc["snapshot_values"][0]["values"]}
    assert values == {"engine_speed (0xF40C)": "750 rpm", "coolant_temperature (0xF1B0)": "50 °C"}


def test_a_named_variant_is_used_and_an_unidentified_ecu_is_read_as_its_base_variant(
        tmp_path: Path, pdx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vehicle = definition(tmp_path, pdx, extra='variant = "somersault_assiduous"', mode="01")
    code, out, _ = cli(capsys, vehicle, "ecu", "info", "SAULT")
    assert code == 0 and "variant somersault_assiduous (named)" in out
    assert "idle" in out
    vehicle = definition(tmp_path, pdx, mode="01")  # idle: no variant's pattern says that
    code, out, err = cli(capsys, vehicle, "ecu", "info", "SAULT")
    assert code == 0, out + err
    assert "variant somersault_base_variant (assumed)" in out
    assert ("its answers match no variant of sault.pdx; its base variant "
            "somersault_base_variant is assumed") in out
    # the ECU is still read: its DTCs with the base variant's texts, the note beside them
    code, out, _ = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT")
    assert code == 0, out
    assert "its base variant somersault_base_variant is assumed" in out
    assert "P033500  Crankshaft position sensor circuit" in out
    code, out, _ = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT", "--json")
    (ecu,) = json.loads(out)["ecus"]
    assert ecu["error"] is None and ecu["variant"] == "somersault_base_variant"
    assert "base variant somersault_base_variant is assumed" in ecu["variant_note"]


def test_what_the_toml_says_wins_and_a_conflict_is_reported_once(
        tmp_path: Path, pdx: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    vehicle = definition(
        tmp_path, pdx, dtc_text='text = "Crank sensor (our words)"',
        tables='[snapshot_dids]\n"F40C" = { size = 2, name = "Engine speed", unit = "rpm" }')
    configure()  # the console handler on this test's stderr (an earlier CLI run's is closed)
    with caplog.at_level(logging.WARNING, logger="workshop.vehicles.odx_source"):
        load_vehicle(vehicle)
        load_vehicle(vehicle)
        code, out, _ = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT")
    warnings = [r.getMessage() for r in caplog.records if r.name.endswith("odx_source")]
    assert len(warnings) == 2, warnings  # the DTC text and the DID, each once
    assert any("DTC P033500 text: the definition says 'Crank sensor (our words)'" in w
               for w in warnings)
    assert any("DID 0xF40C: the definition says 'Engine speed' rpm, the description "
               "'engine_speed' x0.25 rpm; using the definition's" in w for w in warnings)
    assert "P033500  Crank sensor (our words)" in out
    assert "Engine speed (0xF40C): 3000 rpm" in out
    code, out, _ = cli(capsys, vehicle, "ecu", "info", "SAULT")
    assert code == 0 and out.count("! the definition and sault.pdx disagree:") == 2


def test_ids_and_iso_tp_settings_from_the_description(tmp_path: Path, pdx: Path) -> None:
    path = definition(tmp_path, pdx)
    vehicle = load_vehicle(path)
    target = VehicleConnection(unique_adapter(), vehicle).target(vehicle.ecus[0])
    assert target.params.block_size == 4  # somersault's CP_BlockSize
    assert vehicle.ecus[0].odx is not None and vehicle.ecus[0].odx.conflicts == ()
    path.write_text(path.read_text().replace("request_id = 123", "request_id = 0x7E0"))
    odx = load_vehicle(path).ecus[0].odx
    assert odx is not None and odx.conflicts == (
        "request_id: the definition says 0x7E0, the description 0x7B; using 0x7E0",)


def test_a_did_nothing_describes_is_marked(
        tmp_path: Path, pdx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vehicle = definition(tmp_path, pdx)
    conn_out = cli(capsys, vehicle, "ecu", "info", "SAULT")[1]
    assert "0xF1B2" not in conn_out  # not an identification DID the scan or the PDX names
    from workshop.uds.identity import EcuIdentity
    from workshop.vehicles.data_ids import NO_DESCRIPTIONS
    identity = EcuIdentity(values={0xF1B2: "0102"}, raw={0xF1B2: b"\x01\x02"})
    identity.describe(NO_DESCRIPTIONS)
    assert identity.by_name() == {"0xF1B2": "(undescribed) 0102"}


def test_variants_without_patterns_must_be_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain" / "sault.pdx"
    plain.parent.mkdir()
    build(PDX, plain)  # somersault_lazy and somersault_assiduous, no patterns
    vehicle = definition(tmp_path, plain)
    code, _, err = cli(capsys, vehicle, "ecu", "info", "SAULT")
    assert code != 0
    assert "SAULT: sault.pdx has 2 variants and no patterns to tell them apart" in err
    assert "somersault_lazy" in err


@pytest.mark.parametrize(("odx", "why"), [
    ("../sault.pdx", "ecus[0].odx '../sault.pdx' leaves the definition's folder"),
    ("/etc/sault.pdx", "leaves the definition's folder"),
    ("missing.pdx", "missing.pdx: no such file"),
])
def test_a_name_outside_the_folder_or_missing_is_refused(
        tmp_path: Path, pdx: Path, odx: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_vehicle(definition(tmp_path, pdx, odx=odx))
    assert why in info.value.message


def test_an_unknown_variant_is_refused(tmp_path: Path, pdx: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_vehicle(definition(tmp_path, pdx, extra='variant = "somersault_sleepy"'))
    assert "SAULT: sault.pdx has no variant 'somersault_sleepy'" in info.value.message
    assert "somersault_lazy" in (info.value.hint or "")


def test_a_corrupt_pdx_is_refused_with_odxtools_reason(tmp_path: Path, pdx: Path) -> None:
    vehicle = definition(tmp_path, pdx)
    (tmp_path / "sault.pdx").write_bytes(pdx.read_bytes()[: pdx.stat().st_size // 2])
    with pytest.raises(ConfigError) as info:
        load_vehicle(vehicle)
    assert "sault.pdx: odxtools cannot read it: BadZipFile" in info.value.message


def test_a_pdx_with_dotdot_member_names_is_refused(tmp_path: Path, pdx: Path) -> None:
    vehicle = definition(tmp_path, pdx)
    with zipfile.ZipFile(pdx) as src, zipfile.ZipFile(tmp_path / "sault.pdx", "w") as dst:
        for item in src.infolist():
            name = item.filename if item.filename == "index.xml" else f"../{item.filename}"
            dst.writestr(name, src.read(item))
    with pytest.raises(ConfigError) as info:
        load_vehicle(vehicle)
    assert "sault.pdx: member '../" in info.value.message
    assert "names a path outside the container" in info.value.message


def test_live_data_names_and_units_come_from_the_pdx(
        tmp_path: Path, pdx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vehicle = definition(tmp_path, pdx)
    code, out, _ = cli(capsys, vehicle, "live", "SAULT", "coolant_temperature", "--count", "2",
                       "--json")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    value = rows[0]["values"][0]
    assert value["did"] == "F1B0" and value["unit"] == "°C" and value["value"] == 50


def test_extended_data_records_are_decoded_from_the_pdx_and_the_toml_wins(
        tmp_path: Path, pdx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The PDX's 0x19 06 services describe records 0x01 (occurrence_counter) and 0x10
    (odometer_at_first_failure, x10 km); the ECU answers "all records" and the tool splits
    them by the PDX's sizes."""
    stored = '[ecus.dtcs.extended]\n"1" = "05"\n"16" = "000C"\n'  # decimal keys
    vehicle = definition(tmp_path, pdx, tables=stored)
    code, out, _ = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT")
    assert code == 0, out
    assert "occurrence_counter (record 1): 5" in out
    assert "odometer_at_first_failure (record 16): 120 km" in out
    assert "(undescribed)" not in out
    code, out, _ = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT", "--json")
    (dtc,) = json.loads(out)["ecus"][0]["dtcs"]
    assert {v["label"]: (v["value"], v["raw"]) for v in dtc["extended_values"]} == {
        "occurrence_counter (record 1)": ("5", "05"),
        "odometer_at_first_failure (record 16)": ("120 km", "000C")}
    # the definition's [extended_records] names a record: its words win
    vehicle = definition(tmp_path, pdx, tables=stored + '[extended_records]\n'
                         '"0x01" = { size = 1, name = "Occurrences (ours)" }\n')
    code, out, err = cli(capsys, vehicle, "dtc", "read", "--ecu", "SAULT")
    assert code == 0, out + err
    assert "Occurrences (ours) (record 1): 5" in out
    assert "odometer_at_first_failure (record 16): 120 km" in out
