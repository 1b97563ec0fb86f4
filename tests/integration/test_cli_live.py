"""`workshop live`: count-limited runs, the CSV, refusals in words, and Ctrl-C."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from workshop.cli import main

ROOT = Path(__file__).resolve().parents[2]


def live(*args: str) -> list[str]:
    return ["--channel", f"live-{uuid.uuid4()}", "live", *args]


def test_count_limited_run_prints_named_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(live("ENGINE", "F40C", "engine coolant temperature", "--count", "3")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "Engine RPM [rpm]" in lines[0] and "Engine coolant temperature [°C]" in lines[0]
    assert len(lines) == 4 and all(" rpm" in line and " °C" in line for line in lines[1:])


def test_json_lines_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "live.csv"
    assert main(live("ENGINE", "0xF442", "F40D", "1234", "--count", "2", "--csv", str(path),
                     "--json")) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["cycle"] for r in rows] == [1, 2]
    volts = rows[0]["values"][0]
    assert volts["did"] == "F442" and volts["unit"] == "V" and len(volts["raw"]) == 4
    assert "requestOutOfRange" in rows[0]["problems"][0]["message"]
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][2:] == ["Control module voltage [V]", "Vehicle speed [km/h]",
                            "DID 1234 (undescribed) [hex]"]
    assert len(table) == 3 and all(float(r[2]) > 12 and r[4] == "" for r in table[1:])


@pytest.mark.parametrize(("args", "words"), [
    (["ENGINE", "F40C", "rpm"], "neither a DID in hex nor the name"),
    (["ENGINE", "12345"], "neither a DID in hex"),
    (["NOPE", "F40C"], "no ECU named 'NOPE'"),
])
def test_bad_dids_and_ecus_are_refused_in_words(args: list[str], words: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(live(*args, "--count", "1")) == 4
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_bad_csv_paths_are_refused_and_nothing_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "target"
    target.write_text("keep")
    (tmp_path / "link.csv").symlink_to(target)
    assert main(live("ENGINE", "F40C", "--count", "1", "--csv", str(tmp_path / "link.csv"))) == 4
    assert "symbolic link" in capsys.readouterr().err
    assert target.read_text() == "keep"
    assert main(live("ENGINE", "F40C", "--count", "1", "--csv",
                     str(tmp_path / "nowhere" / "a.csv"))) == 4
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


def test_ctrl_c_stops_cleanly_with_a_complete_csv(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    env = dict(os.environ, WORKSHOP_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())",
         *live("ENGINE", "F40C", "F405", "F442", "--csv", str(path))],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        assert "Engine RPM" in proc.stdout.readline()  # the header
        for _ in range(5):  # five sets of values printed: the reader is running
            assert "rpm" in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    # every row whole (time, ECU clock, three values); a value the ECU did not give in time on
    # a busy machine is an empty cell, not a cut row
    assert len(rows) >= 6 and all(len(r) == 5 and r[0] and r[1] for r in rows[1:])
    assert any(all(r) for r in rows[1:])
    assert f"{len(rows) - 1} rows written" in err
