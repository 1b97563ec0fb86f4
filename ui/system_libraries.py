"""Before Qt loads: on Linux, the system libraries Qt's X11 (xcb) platform plugin needs. Without
them Qt aborts the process (exit 134) with a message that names the wrong library; this says
which packages to install instead. Imports nothing of Qt (it must run when Qt cannot load)."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Loaded by Qt at run time (dlopen), so `ldd` of the plugin does not list it (Qt >= 6.5).
DLOPENED = ("libxcb-cursor.so.0",)
# Debian/Ubuntu package -> Fedora/RHEL package, where the names differ.
DNF_NAMES = {"libxcb-icccm4": "xcb-util-wm", "libxcb-keysyms1": "xcb-util-keysyms",
             "libxcb-cursor0": "xcb-util-cursor", "libxcb-image0": "xcb-util-image",
             "libxcb-render-util0": "xcb-util-renderutil", "libxcb-util1": "xcb-util",
             "libxkbcommon-x11-0": "libxkbcommon-x11", "libxkbcommon0": "libxkbcommon",
             "libegl1": "mesa-libEGL", "libfontconfig1": "fontconfig",
             "libx11-xcb1": "libX11-xcb", "libdbus-1-3": "dbus-libs"}
# What README command 1 names: every xcb library the plugin needs beyond a bare X11 install.
README_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
                   "libxcb-render-util0", "libxcb-randr0", "libxcb-shape0", "libxcb-xkb1",
                   "libxcb-xinerama0", "libxkbcommon-x11-0", "libegl1", "libfontconfig1")


def debian_package(soname: str) -> str:
    """Debian's package name for a library's soname: libxcb-icccm.so.4 -> libxcb-icccm4,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (a '-' between two digits)."""
    name, _, version = soname.partition(".so.")
    name, version = name.lower(), version.split(".")[0]
    return f"{name}{'-' if name[-1:].isdigit() else ''}{version}"


def uses_xcb(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether Qt will load its xcb plugin: Linux, no other platform asked for, and not a
    Wayland session left to Qt's own choice."""
    if not sys.platform.startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "").strip().lower()
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """PySide6's libqxcb.so, found without importing PySide6 (importing it loads Qt)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def _not_found_by_ldd(plugin: Path) -> list[str] | None:
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted(set(re.findall(r"^\s*(\S+)\s+=>\s+not found", out, re.MULTILINE)))


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """Sonames the xcb plugin needs and the system lacks ([] when none, or when there is no
    plugin to ask: then Qt says what it says)."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return []
    missing = _not_found_by_ldd(plugin) or []
    missing += [so for so in DLOPENED if so not in missing and not _loads(so)]
    return sorted(missing)


def install_advice(sonames: list[str]) -> str:
    """What to tell the technician: the libraries, and the one line that installs them."""
    packages = sorted({debian_package(so) for so in sonames})
    apt = "sudo apt-get install " + " ".join(packages)
    dnf = "sudo dnf install " + " ".join(sorted({DNF_NAMES.get(p, p) for p in packages}))
    if shutil.which("apt-get") and not shutil.which("dnf"):
        how = f"  {apt}"
    elif shutil.which("dnf") and not shutil.which("apt-get"):
        how = f"  {dnf}"
    else:
        how = f"  Debian/Ubuntu: {apt}\n  Fedora/RHEL:   {dnf}"
    return ("error: the desktop app cannot open a window: Qt's X11 (xcb) platform plugin "
            f"needs {', '.join(sonames)}, which this system does not have.\n"
            f"  -> install them (then start workshop-gui again):\n{how}\n"
            "  (the command line, `workshop`, needs none of them; QT_QPA_PLATFORM=offscreen "
            "runs the app without a window)")


def check() -> str | None:
    """None when Qt can be loaded as it will be; else the advice to print."""
    if not uses_xcb():
        return None
    missing = missing_libraries()
    return install_advice(missing) if missing else None
