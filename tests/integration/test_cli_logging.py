"""A7: protocol libraries stay quiet on the terminal unless asked (-v, --log-file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# One ECU that lacks most identification DIDs: every scan meets NRC 0x31 several times,
# which udsoncan logs as warnings.
SPARSE_VEHICLE = """
name = "sparse"
model = "Sparse"
vin = "1M8GDM9AXKP042788"

[bus]
bitrate = 500000
addressing = "normal_11bit"

[[ecus]]
name = "ENGINE"
request_id = 0x7E0
response_id = 0x7E8

[ecus.identification]
F189 = "1.0.0"
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    vehicle = tmp_path / "sparse.toml"
    vehicle.write_text(SPARSE_VEHICLE)
    env = dict(os.environ, WORKSHOP_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())",
         "--vehicle", str(vehicle), *args, "scan"],
        env=env, capture_output=True, text=True, timeout=120, check=False)


def test_clean_run_prints_only_our_output(tmp_path: Path) -> None:
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "ENGINE" in proc.stdout and "1.0.0" in proc.stdout
    assert proc.stderr == ""


def test_log_file_keeps_library_records(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    proc = run(tmp_path, "--log-file", str(log))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    text = log.read_text()
    assert "UdsClient" in text and "RequestOutOfRange (0x31)" in text


def test_verbose_shows_library_records(tmp_path: Path) -> None:
    proc = run(tmp_path, "-v")
    assert proc.returncode == 0, proc.stderr
    assert "RequestOutOfRange (0x31)" in proc.stderr


def test_unwritable_log_file_is_an_input_error(tmp_path: Path) -> None:
    proc = run(tmp_path, "--log-file", str(tmp_path / "no-such-dir" / "x.log"))
    assert proc.returncode == 4
    assert "cannot write the log file" in proc.stderr


def test_log_file_without_verbose_has_every_request(tmp_path: Path) -> None:
    """Issue 18: --log-file wrote an empty file unless -v was given (a clean run logs no
    warnings, and the libraries' debug records were held back)."""
    log = tmp_path / "bug-report.log"
    proc = run(tmp_path, "--log-file", str(log))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the terminal stays quiet without -v
    text = log.read_text()
    assert "workshop.cli [MainThread]: workshop " in text  # which version, which command
    assert "--log-file" in text.splitlines()[0] and "scan" in text.splitlines()[0]
    assert "Reading data identifier : 0xf189" in text  # udsoncan's requests (INFO)
    assert "Sending 3 bytes : [22f189]" in text  # the bytes sent (DEBUG)
