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


def test_served_vehicle_with_tls_only(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`--tls-port`: TLS only, with the demo PKI (the same WORKSHOP_HOME here, so the test's
    demo workstation is one the served gateway accepts); a plain command is refused."""
    from workshop.services.doip_tls import workstation_tls_context
    from workshop.transport.doip import DoipConnection
    from workshop.transport.isotp_link import LinkParams
    from workshop.uds.client import EcuClient, EcuTarget
    from workshop.uds.targets import link_address
    from workshop.vehicles import load_vehicle

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())",
         "sim", "serve", "--doip", "--port", "0", "--tls-port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        plain = re.search(r"at 127\.0\.0\.1 port (\d+) \(TCP and UDP\)", first)
        tls = re.search(r"TLS only, on port (\d+)", second)
        assert plain and tls, first + second
        code = main(["--adapter", "doip", "--host", "127.0.0.1", "--port", plain.group(1),
                     "scan"])
        err = capsys.readouterr().err
        assert code == 3 and "accepts diagnostics over TLS only" in err, err
        vehicle = load_vehicle("demo-car")
        engine = vehicle.ecu("ENGINE")
        target = EcuTarget("ENGINE", link_address(vehicle, engine), LinkParams(),
                           engine.seed_key, doip_address=vehicle.doip.address("ENGINE"))
        with (DoipConnection("127.0.0.1", int(tls.group(1)),
                             tls=workstation_tls_context(simulator=True)) as conn,
              EcuClient(conn, target) as client):
            assert conn.tls
            assert client.read_did(0xF190) == vehicle.vin.encode()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
