"""Issue 19, done when: a new ECU diagnosed, watched live and flashed from its PDX alone.
The test writes the supplier's PDX (with odxtools, tests/vehicles/odx_ecu_builder.py) and a
TOML naming only the PDX, the ECU's addresses and its seed/key; the simulated ECU serves what
the PDX says; the tool decodes identification, DTC texts and live values from it, builds a
signed package from its ODX-F (`package build --odx`) and flashes it over the simulated bus."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.vehicles.odx_ecu_builder import build_new_ecu
from workshop.cli import main
from workshop.packages.compression import compress

TOML = """name = "sault-car"
[bus]
bitrate = 500000
[[ecus]]
name = "SAULT"
request_id = 0x7B
response_id = 0x1C8
odx = "sault.pdx"
seed_key = "demo-xor"
"""


@pytest.fixture
def vehicle(tmp_path: Path) -> Path:
    build_new_ecu(tmp_path / "sault.pdx")
    path = tmp_path / "sault-car.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], channel: str, vehicle: Path,
        *args: str) -> tuple[int, str]:
    """Exit code and stdout (stderr only when the command failed)."""
    code = main(["--channel", channel, "--vehicle", str(vehicle), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out if code == 0 else out + err


def test_a_new_ecu_is_diagnosed_and_flashed_from_its_pdx_alone(
        tmp_path: Path, vehicle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    channel = f"sault-{uuid.uuid4()}"  # one simulated vehicle whose state persists on disk
    code, out = run(capsys, channel, vehicle, "ecu", "info", "SAULT")
    assert code == 0, out
    assert "variant somersault_lazy (identified from its answers)" in out
    assert "coolant_temperature (0xF1B0)" in out and "50 °C" in out
    assert "operating_mode (0xF1B1)" in out and "running" in out
    assert "SAULT-NEW-1" in out and "1.0.0" in out and "HW-A" in out

    code, out = run(capsys, channel, vehicle, "dtc", "read", "--ecu", "SAULT")
    assert code == 0, out
    assert "P033500  Crankshaft position sensor circuit" in out
    assert "P011500  Engine coolant temperature circuit" in out

    # watched live: the DID named as the PDX names it, its value scaled with the PDX's unit
    code, out = run(capsys, channel, vehicle, "live", "SAULT", "coolant_temperature",
                    "--count", "3", "--json")
    assert code == 0, out
    values = [json.loads(line)["values"][0] for line in out.splitlines()]
    assert len(values) == 3 and all(v["did"] == "F1B0" and v["unit"] == "°C" for v in values)
    assert any(v["value"] == 50 for v in values)  # a cycle the busy machine missed is empty

    pkg = tmp_path / "sault-1.1.0.wspkg"
    code, out = run(capsys, channel, vehicle, "package", "build", "--odx",
                    str(tmp_path / "sault.pdx"), "--session", "update_app", "--ecu", "SAULT",
                    "--out", str(pkg))
    assert code == 0, out
    assert "sault-update_app 1.1.0 (SAULT) from sault.pdx session update_app" in out
    assert "hardware HW-A; from 1.0.0 to 1.1.0 (security version 2); check crc32" in out
    assert "not checked" not in out  # the seed/key level matched the ECU's flash profile

    code, out = run(capsys, channel, vehicle, "flash", str(pkg), "--yes", "--json",
                    "--override", "rollback=the supplier's container is the fallback",
                    "--override", "baseline=a new ECU: no approved baseline yet")
    assert code == 0, out
    (entry,) = json.loads(out)["ecus"]
    assert (entry["outcome"], entry["version_before"], entry["version_after"]) == (
        "success", "1.0.0", "1.1.0")

    code, out = run(capsys, channel, vehicle, "ecu", "info", "SAULT", "--json")
    assert code == 0, out
    assert "1.1.0" in json.loads(out)["identification"].values()
    code, out = run(capsys, channel, vehicle, "audit", "show", "--json")
    assert code == 0, out
    (record,) = [r for r in json.loads(out) if r["action"] == "flash.ecu"
                 and r["details"].get("phase") == "outcome"]
    assert record["ecu"] == "SAULT" and record["details"]["outcome"] == "success"
    assert record["details"]["result"]["version_after"] == "1.1.0"


def test_an_encoded_odx_f_payload_crosses_the_bus_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The container's data is compressed by the OEM (ENCRYPT-COMPRESS-METHOD 10): the
    package carries it as it is and the ECU's bootloader decodes it. Which format 0x10 is,
    only the bootloader knows: here the simulated one's lz4, declared in the TOML."""
    image = build_new_ecu(tmp_path / "sault.pdx", encoded=True)
    vehicle = tmp_path / "sault-car.toml"
    vehicle.write_text(TOML + "[ecus.flash]\ndata_formats = { plain = 0x00, lz4 = 0x10 }\n",
                       encoding="utf-8")
    pkg = tmp_path / "sault-1.1.0.wspkg"
    channel = f"sault-{uuid.uuid4()}"
    code, out = run(capsys, channel, vehicle, "package", "build", "--odx",
                    str(tmp_path / "sault.pdx"), "--session", "update_app", "--ecu", "SAULT",
                    "--out", str(pkg))
    assert code == 0 and "(encoded, format 0x10)" in out, out
    code, out = run(capsys, channel, vehicle, "flash", str(pkg), "--yes", "--json",
                    "--override", "rollback=test", "--override", "baseline=test")
    assert code == 0, out
    (entry,) = json.loads(out)["ecus"]
    assert (entry["outcome"], entry["mode"], entry["version_after"]) == (
        "success", "oem", "1.1.0")
    assert entry["bytes_on_bus"] == len(compress(image))  # the OEM's bytes, not the image
