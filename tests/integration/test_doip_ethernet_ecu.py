"""An Ethernet ECU in the vehicle definition (`ethernet = true`): the simulated DoIP gateway
serves it itself (no CAN hop), it offers 64 KiB blocks, and `workshop --adapter sim-doip
flash` programs it through the command line; over CAN it does not answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.flash.helpers import Update, build
from tests.integration.vehicles import ETHERNET_HEADUNIT, demo_variant
from workshop.cli import main
from workshop.vehicles import load_vehicle
from workshop.vehicles.flash_profile import ETHERNET_BLOCK_LENGTH


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def headunit_car(tmp_path: Path) -> Path:
    return demo_variant(tmp_path, "demo-car", ETHERNET_HEADUNIT)


def software(capsys: pytest.CaptureFixture[str], *pre: str) -> dict[str, tuple[bool, str]]:
    code, out, err = run(capsys, *pre, "scan", "--json")
    assert code in (0, 1), err
    return {e["name"]: (e["responded"], e["identification"].get("ecuSoftwareVersion", ""))
            for e in json.loads(out)["ecus"]}


def test_definition_key_gives_large_blocks(tmp_path: Path) -> None:
    ecu = load_vehicle(headunit_car(tmp_path)).ecu("HEADUNIT")
    assert ecu.ethernet and ecu.flash.max_block_length == ETHERNET_BLOCK_LENGTH
    assert not load_vehicle("demo-car").ecu("ENGINE").ethernet


def test_flash_the_ethernet_ecu_through_the_cli(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    car = str(headunit_car(tmp_path))
    doip = ["--vehicle", car, "--adapter", "sim-doip"]
    assert software(capsys, *doip)["HEADUNIT"] == (True, "1.0.0")
    assert software(capsys, "--vehicle", car)["HEADUNIT"][0] is False  # not on CAN
    pkg = build(tmp_path / "pkg", "headunit-1.1.0", [Update("HEADUNIT", size=512 * 1024)])
    code, out, err = run(capsys, *doip, "flash", str(pkg), "--yes", "--json",
                         "--override", "rollback=test", "--override", "baseline=test")
    assert code == 0, err + out
    entry = json.loads(out)["ecus"][0]
    assert (entry["ecu"], entry["outcome"], entry["version_after"]) == (
        "HEADUNIT", "success", "1.1.0")
    assert software(capsys, *doip)["HEADUNIT"] == (True, "1.1.0")
