"""The one rule for a gateway's address, typed (`--host`) or remembered (settings)."""

from __future__ import annotations

import pytest

from workshop.foundation.hosts import host_problem


@pytest.mark.parametrize("host", ["169.254.10.1", "127.0.0.1", "::1", "fe80::1%eth0",
                                  "localhost", "gw-7.dealer.example", "gateway.local.",
                                  "ENET_GW", "x" * 63 + ".example"])
def test_addresses_and_host_names_pass(host: str) -> None:
    assert host_problem(host) is None


@pytest.mark.parametrize(("host", "says"), [
    ("", "empty"),
    ("gw\u202e.local", "control characters"),
    ("gw\n.local", "control characters"),
    ("a" * 254, "254 characters long"),
    ("gw local", "spaces"),
    ("gw\u00a0local", "spaces"),
    ("-gw.local", "letters, digits and hyphens"),
    ("x" * 64 + ".example", "letters, digits and hyphens"),
    ("gw..local", "letters, digits and hyphens"),
    ("gw/../etc", "letters, digits and hyphens"),
    ("g\u0430teway", "letters, digits and hyphens"),  # a Cyrillic a
    ("300.1.1.1", "not a complete IP address"),
    ("169.254.10", "not a complete IP address"),
])
def test_what_is_no_host_is_said(host: str, says: str) -> None:
    problem = host_problem(host)
    assert problem is not None and says in problem


def test_the_command_line_uses_the_same_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from workshop.cli import main

    assert main(["--adapter", "doip", "--host", "gw\x1b[2J..local", "scan"]) == 2
    err = capsys.readouterr().err
    assert "is not an IP address or host name (it holds control characters" in err
    assert "\x1b" not in err
