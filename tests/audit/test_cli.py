from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from workshop.audit import AuditLog, default_log_path, demo_identity
from workshop.cli import main


@pytest.fixture
def local_log() -> Path:
    with AuditLog.open(default_log_path(), demo_identity()) as log:
        for i in range(4):
            log.append("clear_dtc", vin="VIN1", ecu="ABS", technician="t", details={"i": i})
    return default_log_path()


def test_verify_ok(local_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["records"] == 4


def test_verify_reports_seq(local_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = sqlite3.connect(local_log)
    conn.execute("UPDATE records SET vin='X' WHERE seq=2")
    conn.commit()
    conn.close()
    assert main(["audit", "verify"]) == 1
    assert "seq 2: content does not match its hash" in capsys.readouterr().out


def test_export_and_verify_file(local_log: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "e.jsonl"
    assert main(["audit", "export", "--out", str(out)]) == 0
    assert main(["audit", "verify", "--file", str(out)]) == 0
    assert "4 records" in capsys.readouterr().out
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    assert main(["audit", "verify", "--file", str(out), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"][0]["seq"] == 2


def test_show(local_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "show", "--json", "--last", "2"]) == 0
    assert [r["seq"] for r in json.loads(capsys.readouterr().out)] == [3, 4]


def test_missing_log_is_input_error() -> None:
    assert main(["audit", "verify"]) == 4


def test_not_an_export(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text("hello\n")
    assert main(["audit", "verify", "--file", str(bad)]) == 4


def test_show_on_foreign_db_is_input_error() -> None:
    conn = sqlite3.connect(default_log_path())
    conn.execute("CREATE TABLE x (a)")
    conn.commit()
    conn.close()
    assert main(["audit", "show"]) == 4
    assert main(["audit", "verify"]) == 4
