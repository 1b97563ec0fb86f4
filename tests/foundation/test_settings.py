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
