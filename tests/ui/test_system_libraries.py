"""Before Qt loads, the app checks the system libraries of Qt's X11 (xcb) plugin and names the
packages to install, instead of Qt aborting the process (exit 134, blaming xcb-cursor0)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui import system_libraries
from ui.system_libraries import debian_package, install_advice, missing_libraries, uses_xcb

ROOT = Path(__file__).resolve().parents[2]


def test_debian_package_names() -> None:
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert debian_package("libdbus-1.so.3") == "libdbus-1-3"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")
def test_only_an_xcb_start_is_checked() -> None:
    assert uses_xcb({"DISPLAY": ":0"})
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert not uses_xcb({"QT_QPA_PLATFORM": "wayland;xcb"})
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"})  # Qt picks its platform there


def test_advice_names_the_packages_and_the_command() -> None:
    text = install_advice(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in text
    assert ("apt-get install libxcb-icccm4 libxcb-keysyms1" in text
            or "dnf install xcb-util-keysyms xcb-util-wm" in text)


def test_every_readme_package_is_in_readme_command_1() -> None:
    readme = (ROOT / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith("sudo apt-get install libxcb"))
    assert set(line.split()[3:]) == set(system_libraries.README_PACKAGES)


MISSING = missing_libraries() if sys.platform.startswith("linux") else []


@pytest.mark.skipif(not MISSING, reason="every library of the xcb plugin is installed here")
def test_missing_libraries_are_named_before_qt_aborts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":99", PYTHONPATH=str(ROOT), WORKSHOP_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", "from ui.app import main; "
                           "raise SystemExit(main())"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 4, proc.stderr  # not 134 (SIGABRT from Qt)
    assert "Qt's X11 (xcb) platform plugin needs" in proc.stderr
    for soname in MISSING:
        assert soname in proc.stderr and debian_package(soname) in proc.stderr
    assert "install" in proc.stderr and "could not be initialized" not in proc.stderr
