"""`workshop sim serve --doip` as its own process, reached by another tool over loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from workshop.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_served_vehicle_is_scanned_over_doip(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    env = dict(os.environ, WORKSHOP_HOME=str(tmp_path / "served"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())",
         "sim", "serve", "--doip", "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once it listens
        found = re.search(r"at 127\.0\.0\.1 port (\d+) \(TCP and UDP\)", first)
        assert found, first + (proc.stderr.read() if proc.poll() is not None else "")
        port = found.group(1)
        code = main(["--adapter", "doip", "--host", "127.0.0.1", "--port", port,
                     "scan", "--json"])
        out = capsys.readouterr()
        assert code == 0, out.err
        ecus = json.loads(out.out)["ecus"]
        assert len(ecus) == 7 and all(e["responded"] for e in ecus)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err


def test_serve_needs_doip_and_a_free_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "serve"]) == 2
    assert "--doip" in capsys.readouterr().err
    assert main(["sim", "serve", "--doip", "--port", "-1"]) == 2
    assert "not a port" in capsys.readouterr().err
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        assert main(["sim", "serve", "--doip", "--port", port]) == 4
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
