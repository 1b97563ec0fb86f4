"""B10: text from definitions, packages, certificates and ECUs reaches the terminal without
control or bidi characters; JSON output stays valid JSON with the text escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.trust.pki_factory import make_root, make_signer, write_store
from workshop.cli import main
from workshop.packages.build import build_package

EVIL = "\x1b[2J\x1b]0;owned\x07\u202egnp.exe\x9b31m"
UNSAFE = ["\x1b", "\x07", "\u202e", "\x9b"]


def clean(text: str) -> bool:
    return not any(c in text for c in UNSAFE)


def toml_str(text: str) -> str:
    return "".join(f"\\u{ord(c):04X}" if not c.isprintable() or ord(c) > 0x7E else c
                   for c in text)


def vehicle(folder: Path) -> Path:
    path = folder / "evil-car.toml"
    path.write_text(f'''
name = "evil-car"
[[ecus]]
name = "ENGINE"
request_id = 0x7E0
response_id = 0x7E8
seed_key = "demo-xor"
[ecus.identification]
F187 = {{ hex = "{(EVIL.encode("latin-1", "replace") + b"PN").hex()}" }}
F18A = {{ hex = "1b5b324a" }}
[[ecus.dtcs]]
code = "P030100"
status = 0x2F
text = "{toml_str(EVIL)}"
''')
    return path


def test_dtc_text_from_definition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--vehicle", str(vehicle(tmp_path)), "dtc", "read"]) == 0
    out = capsys.readouterr().out
    assert "P030100" in out and clean(out) and "\\x1b[2J" in out


def test_scan_and_ecu_info_show_no_escape(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = str(vehicle(tmp_path))
    main(["--vehicle", path, "scan", "--no-discovery"])
    main(["--vehicle", path, "ecu", "info", "ENGINE"])
    captured = capsys.readouterr()
    assert "ENGINE" in captured.out and clean(captured.out) and clean(captured.err)


def test_dtc_read_json_stays_json_with_text_escaped(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--vehicle", str(vehicle(tmp_path)), "dtc", "read", "--json"]) == 0
    out = capsys.readouterr().out
    assert clean(out)
    assert json.loads(out)["ecus"][0]["dtcs"][0]["text"] == EVIL


def package(folder: Path, cn: str = "Test Code Signer") -> tuple[Path, Path]:
    root = make_root()
    trust = write_store(folder / "trust", [root], [(root, [])])
    spec = folder / "evil.toml"
    spec.write_text(f'''
[package]
id = "evil"
version = "1"
release_notes = "{toml_str(EVIL)}"
vehicle_models = ["{toml_str(EVIL)}"]
[[ecu]]
name = "ENGINE"
address = 0x7E0
hardware_part_numbers = ["{toml_str(EVIL)}"]
from_versions = ["1.0.0"]
new_version = "{toml_str(EVIL)}"
security_version = 1
[[ecu.region]]
address = 0
generate_size = 64
''')
    out = folder / "evil.wspkg"
    build_package(spec, out, make_signer(root, cn=cn))
    return out, trust


def test_package_inspect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg, _ = package(tmp_path)
    assert main(["package", "inspect", str(pkg)]) == 0
    out = capsys.readouterr().out
    assert "notes: \\x1b[2J" in out and clean(out)
    assert main(["package", "inspect", str(pkg), "--json"]) == 0
    out = capsys.readouterr().out
    assert clean(out) and json.loads(out)["release_notes"] == EVIL


def test_certificate_name_in_package_verify(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pkg, trust = package(tmp_path, cn=f"Signer {EVIL}")
    main(["package", "verify", str(pkg), "--trust", str(trust)])
    captured = capsys.readouterr()
    assert "Signer \\x1b[2J" in captured.out + captured.err
    assert clean(captured.out) and clean(captured.err)


def test_an_error_naming_a_hostile_file_is_escaped(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    hostile = tmp_path / "evil\x1b]0;owned\x07\x1b[2J.toml"
    code = main(["--vehicle", str(hostile), "scan"])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: ")
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b]0;owned\\x07" in err
