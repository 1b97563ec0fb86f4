"""Per-user settings: saved atomically, checked on load, and obeyed by the CLI and the core
(technician in audit records, package store, audit log and trust store locations)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.trust.pki_factory import make_root, write_store
from workshop.audit import default_log_path
from workshop.cli import main
from workshop.foundation.errors import ConfigError
from workshop.foundation.settings import Settings, load_settings, save_settings, settings_path
from workshop.services import trust_policy
from workshop.services.audit_trail import recent_records
from workshop.services.baseline_check import package_store
from workshop.transport.adapters import AdapterConfig
from workshop.trust.location import UnsafeTrustStoreError

REAL = AdapterConfig(interface="pcan", channel="PCAN_USBBUS1")


def test_defaults_without_a_file_and_a_round_trip() -> None:
    assert load_settings() == Settings()
    saved = Settings(technician_name="Jane Doe", technician_id="T-0042", theme="dark")
    save_settings(saved)
    assert load_settings() == saved
    assert saved.technician == "Jane Doe (T-0042)"


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "damaged"),
    ("[1, 2]", "not a JSON object"),
    ('{"colour": "red"}', "unknown setting colour"),
    ('{"theme": "purple"}', "theme must be one of system, light, dark"),
    ('{"technician_name": 7}', "must be text"),
    ('{"technician_name": "Eve\\u001b]0;owned\\u0007"}', "control characters"),
    ('{"package_dir": "relative/pkgs"}', "must be an absolute folder"),
])
def test_a_damaged_settings_file_is_an_error_that_names_the_problem(content: str,
                                                                   says: str) -> None:
    settings_path().write_text(content)
    with pytest.raises(ConfigError, match=says) as info:
        load_settings()
    assert info.value.hint


def test_cli_set_refuses_bad_values_and_keeps_the_file(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    assert main(["settings", "set", "technician_id", "T-7"]) == 0
    before = settings_path().read_bytes()
    assert main(["settings", "set", "theme", "purple"]) == 4
    assert "theme must be one of" in capsys.readouterr().err
    assert settings_path().read_bytes() == before
    assert main(["settings", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"]["technician_id"] == "T-7"


def test_technician_package_store_and_audit_folder_are_obeyed(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    packages, audit = tmp_path / "shop" / "packages", tmp_path / "shop" / "audit"
    save_settings(Settings(technician_name="Jane Doe", technician_id="T-0042",
                           package_dir=str(packages), audit_dir=str(audit)))
    assert package_store() == packages
    assert main(["dtc", "clear", "--ecu", "ENGINE", "--yes"]) == 0
    assert default_log_path().parent == audit and default_log_path().is_file()
    records, _ = recent_records(2)
    assert {r.technician for r in records} == {"Jane Doe (T-0042)"}
    assert main(["flash", "engine-1.1.0", "--dry-run"]) == 0  # the demo packages go there
    assert any(packages.glob("*.wspkg"))
    capsys.readouterr()


def test_settings_trust_store_serves_a_real_adapter_only_when_others_cannot_write_it(
        tmp_path: Path) -> None:
    store = tmp_path / "trust"
    write_store(store, [make_root("Production OEM Root")])
    save_settings(Settings(trust_dir=str(store)))
    assert len(trust_policy.trust_store(REAL).all_roots()) == 1
    firmware = next(p for p in store.iterdir() if p.is_dir())
    firmware.chmod(firmware.stat().st_mode | stat.S_IWOTH)
    with pytest.raises(UnsafeTrustStoreError, match="can be changed by other accounts"):
        trust_policy.trust_store(REAL)
    assert main(["--adapter", "pcan", "package", "verify", "nothing.wspkg"]) == 4
    firmware.chmod(firmware.stat().st_mode & ~stat.S_IWOTH)
    assert len(trust_policy.trust_store(REAL).all_roots()) == 1


def test_the_remembered_gateway_round_trips_as_json_number_and_boolean() -> None:
    saved = Settings(doip_host="169.254.10.1", doip_port=3496, doip_tls=True)
    save_settings(saved)
    on_disk = json.loads(settings_path().read_text())
    assert (on_disk["doip_port"], on_disk["doip_tls"]) == (3496, True)
    assert load_settings() == saved


@pytest.mark.parametrize(("key", "value", "says"), [
    ("doip_host", "gw\u001b[2J.local", "not an IP address or host name (it holds control "
                                        "characters): 'gw\\x1b[2J.local'"),
    ("doip_host", "169.254.10.1 port 13400", "(it holds spaces)"),
    ("doip_host", "g" * 300, "(it is 300 characters long (at most 253))"),
    ("doip_host", "gw;rm -rf", "(it holds spaces)"),
    ("doip_host", "bad;host", "only letters, digits and hyphens"),
    ("doip_host", "169.254.10", "not a complete IP address"),
    ("doip_host", 169, "(it is int, not text)"),
    ("doip_port", 0, "doip_port must be a port number from 1 to 65535, not 0"),
    ("doip_port", 70000, "not 70000"),
    ("doip_port", "13400", "not '13400'"),
    ("doip_port", 13400.5, "not 13400.5"),
    ("doip_port", True, "not True"),
    ("doip_tls", "yes", "doip_tls must be true or false, not 'yes'"),
    ("doip_tls", 1, "not 1"),
])
def test_a_bad_remembered_gateway_value_is_said_and_its_default_used(
        key: str, value: object, says: str, caplog: pytest.LogCaptureFixture) -> None:
    good = {"technician_name": "Jane Doe", "doip_host": "10.0.0.7", "doip_port": 13400,
            "doip_tls": True}
    settings_path().write_text(json.dumps({**good, key: value}))
    notes: list[str] = []
    loaded = load_settings(notes)
    assert getattr(loaded, key) == getattr(Settings(), key)
    assert loaded.technician_name == "Jane Doe"  # the rest of the file still counts
    assert all(getattr(loaded, k) == v for k, v in good.items() if k != key)
    assert len(notes) == 1 and says in notes[0] and "not used" in notes[0], notes
    assert "\x1b" not in notes[0] and says in caplog.text
    with pytest.raises(ConfigError, match=key):  # and nothing bad is ever written
        save_settings(Settings(**{key: value}))  # type: ignore[arg-type]


def test_cli_set_types_the_gateway_values_and_refuses_bad_ones(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "set", "doip_port", "13400"]) == 0
    assert main(["settings", "set", "doip_tls", "true"]) == 0
    assert main(["settings", "set", "doip_host", "gw-7.dealer.example"]) == 0
    assert (load_settings().doip_port, load_settings().doip_tls) == (13400, True)
    before = settings_path().read_bytes()
    assert main(["settings", "set", "doip_port", "99999"]) == 4
    assert main(["settings", "set", "doip_tls", "maybe"]) == 4
    assert main(["settings", "set", "doip_host", "a b"]) == 4
    err = capsys.readouterr().err
    assert "from 1 to 65535, not 99999" in err and "true or false, not 'maybe'" in err
    assert "(it holds spaces)" in err and "Traceback" not in err
    assert settings_path().read_bytes() == before
    assert main(["settings", "set", "doip_port", ""]) == 0  # '' forgets it
    assert load_settings().doip_port is None


def test_settings_show_words_the_gateway_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "set", "doip_port", "3496"]) == 0
    assert main(["settings", "show"]) == 0
    shown = {line.split()[0]: line.split(None, 1)[1] for line in
             capsys.readouterr().out.splitlines()[1:]}
    assert (shown["doip_port"], shown["doip_tls"], shown["doip_host"]) == ("3496", "no",
                                                                           "(default)")
    assert main(["settings", "set", "doip_tls", "true"]) == 0
    assert main(["settings", "show"]) == 0
    assert "doip_tls           yes" in capsys.readouterr().out
