"""The `[doip]` table and each ECU's `doip_address`: defaults, and bad values refused in
words that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.foundation.errors import ConfigError
from workshop.vehicles import load_vehicle

ECUS = ('[[ecus]]\nname = "ECM"\nrequest_id = 0x7E0\nresponse_id = 0x7E8\n{ecm}'
        '[[ecus]]\nname = "TCM"\nrequest_id = 0x7E1\nresponse_id = 0x7E9\n{tcm}')


def definition(tmp_path: Path, doip: str = "", ecm: str = "", tcm: str = "") -> Path:
    path = tmp_path / "car.toml"
    path.write_text(f"[bus]\nbitrate = 500000\n{doip}\n" + ECUS.format(ecm=ecm, tcm=tcm))
    return path


def test_defaults_follow_iso_13400_and_the_can_addresses(tmp_path: Path) -> None:
    doip = load_vehicle(definition(tmp_path)).doip
    assert (doip.gateway_address, doip.tester_address, doip.functional_address,
            doip.port) == (0x0010, 0x0E00, 0xE400, 13400)
    assert doip.ecu_addresses == {"ECM": 0x17E0, "TCM": 0x17E1}
    van = load_vehicle("van").doip  # 29-bit: 0x1000 + the target byte
    assert van.ecu_addresses == {"ECM": 0x1001, "BSI": 0x1040, "ADAS": 0x1060}


def test_given_values_are_used(tmp_path: Path) -> None:
    doip = load_vehicle(definition(
        tmp_path, "[doip]\ngateway_address = 0x1FFF\ntester_address = 0x0E80\n"
        "functional_address = 0xE401\nport = 13401\n", ecm="doip_address = 0x0201\n")).doip
    assert (doip.gateway_address, doip.tester_address, doip.functional_address,
            doip.port) == (0x1FFF, 0x0E80, 0xE401, 13401)
    assert doip.address("ECM") == 0x0201 and doip.ecu_at(0x17E1) == "TCM"


@pytest.mark.parametrize(("doip", "ecm", "tcm", "words"), [
    ("[doip]\ntester_address = 0x1001\n", "", "", "doip.tester_address 0x1001 is not an "
     "external test equipment address (ISO 13400-2: 0x0E00-0x0FFF)"),
    ("[doip]\nfunctional_address = 0x1000\n", "", "", "is not a functional address"),
    ("[doip]\nport = 0\n", "", "", "doip.port must be a TCP/UDP port number 1-65535"),
    ("[doip]\nport = \"x\"\n", "", "", "doip.port must be a TCP/UDP port number"),
    ("[doip]\ngateway = 1\n", "", "", "doip.gateway is not a DoIP setting"),
    ("", "doip_address = 0xE400\n", "", "ecus[0].doip_address 0xE400 is not an ECU address"),
    ("", "doip_address = \"0x1001\"\n", "", "ecus[0].doip_address must be a whole number"),
    ("", "doip_address = 0x17E1\n", "", "ecus[1] (TCM) DoIP address 0x17E1 is already "
     "ecus[0] (ECM)'s (the default, 0x1000 + its CAN address; give ecus[1].doip_address)"),
    ("", "doip_address = 0x0010\n", "", "ecus[0] (ECM) DoIP address 0x0010 is already "
     "doip.gateway_address's"),
])
def test_bad_values_are_refused_in_words(tmp_path: Path, doip: str, ecm: str, tcm: str,
                                         words: str) -> None:
    path = definition(tmp_path, doip, ecm, tcm)
    with pytest.raises(ConfigError) as info:
        load_vehicle(path)
    assert words in str(info.value)
    assert str(path) in str(info.value)
