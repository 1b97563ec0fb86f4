"""The flash progress line: the rate is compared with the bus limit only where the wire limits
it (issue 18: "65.9 kB/s of 28.5" on the simulated bus, faster than the limit it showed)."""

from __future__ import annotations

import argparse
import io

import pytest

from workshop.cli.flash_cmd import progress_printer
from workshop.flash.events import FlashProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _line(monkeypatch: pytest.MonkeyPatch, wire_limited: bool) -> str:
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    show = progress_printer(argparse.Namespace(json=False), wire_limited=wire_limited)
    show(FlashProgress("flash", "ENGINE", "download", 8192, 8192, 8300, 65_900.0, 28_500.0,
                       0.0, False))
    return term.getvalue()


def test_a_real_bus_rate_is_shown_against_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    line = _line(monkeypatch, wire_limited=True)
    assert "100%" in line and "65.9 kB/s of 28.5" in line


def test_the_unlimited_simulated_bus_is_not_shown_as_beating_the_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    line = _line(monkeypatch, wire_limited=False)
    assert "65.9 kB/s simulated (a real bus: at most 28.5)" in line
    assert "kB/s of" not in line


def test_over_doip_the_limit_is_the_ethernet_links(monkeypatch: pytest.MonkeyPatch) -> None:
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    show = progress_printer(argparse.Namespace(json=False), wire_limited=False,
                            link="100 Mbit/s Ethernet link")
    show(FlashProgress("flash", "HEADUNIT", "download", 65535, 65535, 65600, 40e6,
                       11_866_059.0, 0.0, False))
    assert "kB/s simulated (a real 100 Mbit/s Ethernet link: at most 11866.1)" in \
        term.getvalue()
