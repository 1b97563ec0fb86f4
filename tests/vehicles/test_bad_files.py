"""B11: a malformed vehicle definition or simulator state file gets a clear error naming the
file and the line or key path, exit 4, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workshop.cli import main
from workshop.foundation.errors import ConfigError
from workshop.foundation.paths import resources_dir
from workshop.vehicles import load_vehicle

GOOD_ECU = 'name = "ENGINE"\nrequest_id = 0x7E0\nresponse_id = 0x7E8\nseed_key = "demo-xor"\n'


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("body,where", [
    ('[[ecus]]\nname = "ENGINE"\nresponse_id = 0x7E8\n', "ecus[0].request_id is missing"),
    (f'[[ecus]]\n{GOOD_ECU}[[ecus]]\nname = "ABS"\nrequest_id = "0x7E2"\nresponse_id = 0x7EA\n',
     "ecus[1].request_id must be an integer"),
    (f"[[ecus]]\n{GOOD_ECU}identification = 5\n", "ecus[0].identification must be a table"),
    ('[[ecus]]\nname = 5\nrequest_id = 0x7E0\nresponse_id = 0x7E8\n',
     "ecus[0].name must be a string"),
    (f'[[ecus]]\n{GOOD_ECU}[[ecus.dtcs]]\ncode = "P0301"\n', "ecus[0].dtcs[0].status is missing"),
    (f'[[ecus]]\n{GOOD_ECU}[[ecus.dtcs]]\ncode = "XYZ"\nstatus = 1\n',
     "ecus[0].dtcs[0].code 'XYZ' is not an SAE J2012 DTC"),
    (f'[[ecus]]\n{GOOD_ECU}[ecus.identification]\nF1ZZ = "x"\n', "key 'F1ZZ' must be a hex"),
    (f'bus = 5\n[[ecus]]\n{GOOD_ECU}', "bus must be a table"),
    ('name = "car"\n', "ecus is missing"),
    (f'[[ecus]]\n{GOOD_ECU}[[ecus]]\n{GOOD_ECU}', "ecus[1].name 'ENGINE' repeats ecus[0]"),
])
def test_semantic_error_names_file_and_key_path(tmp_path: Path, body: str, where: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "car.toml"
    path.write_text(body)
    code, err = run(["--vehicle", str(path), "scan"], capsys)
    assert code == 4, err
    assert str(path) in err and where in err


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "car.toml"
    path.write_text(f'name = "car"\n[[ecus]]\n{GOOD_ECU}p2_ms = = 5\n')
    code, err = run(["--vehicle", str(path), "scan"], capsys)
    assert code == 4
    assert f"{path}: line 7, column 9:" in err


def test_binary_definition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "car.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    code, err = run(["--vehicle", str(path), "scan"], capsys)
    assert code == 4 and str(path) in err and "UTF-8" in err


def _state(home: Path) -> Path:
    path = home / "sim" / "demo-car" / "state.json"
    path.parent.mkdir(parents=True)
    return path


@pytest.mark.parametrize("content,what", [
    (b'{\n "ENGINE": {"dtcs": {"030100": 47},,}\n}', "line 2 column"),
    (b'{"ENGINE": {"dtcs": []}}', "ENGINE.dtcs must be an object"),
    (b'{"ENGINE": {"dtcs": {"030100": "x"}}}', "ENGINE.dtcs.030100"),
    (b'{"ENGINE": {"erased": [1]}}', "ENGINE.erased"),
    (b"[]", "top level"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_bad_state_file_names_file_and_place(workshop_home: Path, content: bytes, what: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = _state(workshop_home)
    path.write_bytes(content)
    code, err = run(["dtc", "read", "--ecu", "ENGINE"], capsys)
    assert code == 4, err
    assert str(path) in err and what in err and "sim reset" in err
    assert main(["sim", "reset"]) == 0  # the hint works
    assert main(["dtc", "read", "--ecu", "ENGINE"]) == 0


VALUES = ["5", '"x"', "[]", "{}", "true", "-1", "1.5", '"../x"', "[1, 2]", '{ hex = "zz" }']


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_wrong_value_is_a_config_error(tmp_path_factory: pytest.TempPathFactory,
                                           data: st.DataObject) -> None:
    lines = (resources_dir() / "vehicles" / "demo-car.toml").read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.sampled_from([i for i, x in enumerate(lines) if " = " in x]))
        key = lines[index].split(" = ")[0]
        lines[index] = f"{key} = {data.draw(st.sampled_from(VALUES))}"
    path = tmp_path_factory.mktemp("fuzz") / "car.toml"
    path.write_text("\n".join(lines))
    try:
        load_vehicle(path)
    except ConfigError as exc:
        assert str(path) in exc.message
