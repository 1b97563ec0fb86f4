"""`--tls` on the command line: the simulated gateway serves TLS only (demo-PKI certificate,
asking for the workstation's), and a command without `--tls` is refused in words."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.doip_helpers import GatewayFault, gateway_faults
from workshop.cli import EXIT_INPUT, EXIT_OK, main
from workshop.services import connection
from workshop.services.doip_tls import simulated_gateway_context
from workshop.simulator.doip_gateway import DoipGateway

__all__ = ["gateway_faults"]  # the fixture


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_scan_over_tls(capsys: pytest.CaptureFixture[str],
                       gateway_faults: list[GatewayFault]) -> None:
    seen: list[DoipGateway] = []
    gateway_faults.append(seen.append)
    code, out, err = run(capsys, "--adapter", "sim-doip", "--tls", "scan", "--json")
    assert code == EXIT_OK, err
    ecus = json.loads(out)["ecus"]
    assert len(ecus) == 7 and all(e["responded"] for e in ecus)
    assert seen[0].tls_only and seen[0].tls_port is not None


def test_tls_only_gateway_without_tls_is_refused_in_words(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    class TlsOnly(DoipGateway):  # a gateway that takes diagnostics over TLS only
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "tls": simulated_gateway_context(),
                                       "tls_only": True})
    monkeypatch.setattr(connection, "DoipGateway", TlsOnly)
    code, out, err = run(capsys, "--adapter", "sim-doip", "scan")
    assert code not in (EXIT_OK, 1), err
    # the probe of the gateway's own TLS port finds it first (routing activation's 0x07 is
    # tested in tests/transport/test_doip_tls.py)
    assert "offers TLS on port" in err and "--tls" in err
    assert "Traceback" not in err + out


def test_tls_with_a_can_adapter_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--tls", "scan")
    assert code == EXIT_INPUT
    assert "--tls is for DoIP" in err and "Traceback" not in err
