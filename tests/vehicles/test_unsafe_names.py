"""B1: a definition whose names would become paths outside their folder is refused (exit 4)
before anything is touched on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.cli import main
from workshop.foundation.errors import ConfigError
from workshop.foundation.names import NAME_PATTERN
from workshop.vehicles import load_vehicle

ECU = '[[ecus]]\nname = "{ecu}"\nrequest_id = 0x7E0\nresponse_id = 0x7E8\n'


def definition(folder: Path, name: str, ecu: str = "ENGINE") -> Path:
    path = folder / "evil.toml"
    body = ECU.format(ecu=_toml(ecu))
    path.write_text(f'name = "{_toml(name)}"\n' + body)
    return path


def _toml(text: str) -> str:
    return "".join(f"\\u{ord(c):04X}" if ord(c) < 0x20 else c
                   for c in text.replace("\\", "\\\\").replace('"', '\\"'))


def _victim(home: Path) -> Path:
    keep = home / "keep"
    keep.mkdir(parents=True)
    (keep / "precious.txt").write_text("do not delete")
    return keep


def test_sim_reset_with_dotdot_name_deletes_nothing(tmp_path: Path, workshop_home: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    keep = _victim(workshop_home)
    code = main(["--vehicle", str(definition(tmp_path, "../keep")), "sim", "reset"])
    assert code == 4
    assert (keep / "precious.txt").read_text() == "do not delete"
    err = capsys.readouterr().err
    assert "'../keep'" in err and NAME_PATTERN in err and "Traceback" not in err


def test_sim_reset_with_absolute_name_deletes_nothing(tmp_path: Path, workshop_home: Path
                                                      ) -> None:
    keep = _victim(tmp_path / "elsewhere")
    assert main(["--vehicle", str(definition(tmp_path, str(keep))), "sim", "reset"]) == 4
    assert (keep / "precious.txt").exists()


@pytest.mark.parametrize("name", ["../keep", "/abs", "a/b", "a\\b", "a\x00b", "..", "",
                                  "x" * 65])
def test_unsafe_vehicle_name_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_vehicle(definition(tmp_path, name))
    assert "name" in err.value.message and NAME_PATTERN in (err.value.hint or "")


@pytest.mark.parametrize("ecu", ["../ENGINE", "/abs", "a/b", "a\\b", "a\x00b", "..", "",
                                 "x" * 65])
def test_unsafe_ecu_name_refused_with_key_path(tmp_path: Path, ecu: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_vehicle(definition(tmp_path, "car", ecu=ecu))
    assert "ecus[0].name" in err.value.message and NAME_PATTERN in (err.value.hint or "")


def test_vehicle_lookup_by_unsafe_name_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "reset", "../../keep"]) == 4
    assert NAME_PATTERN in capsys.readouterr().err
