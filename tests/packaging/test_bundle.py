"""The offline bundle as a technician runs it: built with packaging/build.py, copied away from
the checkout, and started with no Python environment on PATH and no PYTHONPATH. Slow (a
PyInstaller build); CI runs it in the environment that has the `gui` and `packaging` extras."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop import __version__
from workshop.transport.adapters import interface_status

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not sys.platform.startswith("linux"),
                       reason="the Linux bundle; Windows builds its own on Windows"),
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("PyInstaller", reason="needs the packaging extra")
    pytest.importorskip("PySide6", reason="needs the gui extra")
    work = tmp_path_factory.mktemp("build")
    subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--dist",
                    str(work / "dist"), "--work", str(work / "build")], check=True,
                   timeout=1700)
    archives = list((work / "dist").glob(f"workshop-{__version__}-linux-*.tar.gz"))
    assert len(archives) == 1
    unpacked = tmp_path_factory.mktemp("elsewhere")
    with tarfile.open(archives[0]) as tar:
        tar.extractall(unpacked, filter="tar")
    (folder,) = unpacked.iterdir()
    assert (folder / "install.sh").is_file() and (folder / "workshop.desktop").is_file()
    shutil.rmtree(work)  # nothing may be used from the build or the checkout
    yield folder / "workshop"


def run(bundle: Path, home: Path, *args: str, timeout: float = 300
        ) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "WORKSHOP_HOME": str(home / "data"),
           "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    exe = bundle / ("workshop-gui" if args[0] == "--gui" else "workshop")
    return subprocess.run([str(exe), *args[1 if args[0] == "--gui" else 0:]], env=env,
                          cwd=home, capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_the_bundle_runs_without_python(installed: Path, tmp_path: Path) -> None:
    assert not (installed / "tests").exists()
    version = run(installed, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.split() == ["workshop", __version__]

    adapters = run(installed, tmp_path, "adapters", "--json")
    assert adapters.returncode == 0, adapters.stderr
    modules = {m["name"]: m for m in json.loads(adapters.stdout)["modules"]}
    here = {s.name: s.loads for s in interface_status()}
    assert set(modules) == set(here)
    # every interface that loads in the development environment loads in the bundle too
    assert {n for n, m in modules.items() if m["loads"]} == {n for n, ok in here.items() if ok}
    dropped = [n for n, m in modules.items() if f"No module named '{m['module']}" in m["problem"]
               or "No module named 'can.interfaces" in m["problem"]]
    assert not dropped, f"interfaces missing from the bundle: {dropped}"

    scan = run(installed, tmp_path, "scan", "--json")
    assert scan.returncode == 0, scan.stderr
    found = json.loads(scan.stdout)
    assert found["vin"] == "WDXDEMC12RA000001"
    assert len(found["ecus"]) == 7 and all(e["responded"] for e in found["ecus"])

    flash = run(installed, tmp_path, "flash", "engine-1.1.0", "--yes", "--json")
    assert flash.returncode == 0, flash.stdout + flash.stderr
    (ecu,) = json.loads(flash.stdout)["ecus"]
    assert (ecu["ecu"], ecu["outcome"], ecu["version_after"]) == ("ENGINE", "success", "1.1.0")
    stored = tmp_path / "data" / "packages" / "engine-1.1.0.wspkg"
    verify = run(installed, tmp_path, "package", "verify", str(stored))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    audit = run(installed, tmp_path, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr

    gui = run(installed, tmp_path, "--gui", "--self-test")
    assert gui.returncode == 0, gui.stdout + gui.stderr
    assert "7 of 7 ECUs answered" in gui.stdout


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="install.sh installs as root (it makes the trust store root's)")
def test_install_upgrade_keeps_user_data_and_lays_down_a_read_only_trust_store(
        installed: Path, tmp_path: Path) -> None:
    from tests.trust.pki_factory import make_root, write_store

    archive_root = installed.parent
    staging, home, roots = tmp_path / "root", tmp_path / "home", tmp_path / "dealer-trust"
    staging.mkdir()
    home.mkdir()
    write_store(roots, [make_root("Production OEM Root")])
    install = [str(archive_root / "install.sh"), "--root", str(staging), "--trust", str(roots)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    app = staging / "usr" / "local" / "bin"  # the links a technician starts
    cleared = run(app, home, "dtc", "clear", "--ecu", "ENGINE", "--yes")
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    before = run(app, home, "audit", "show", "--json").stdout

    subprocess.run(install, check=True, capture_output=True, timeout=300)  # reinstall/upgrade
    after = run(app, home, "audit", "show", "--json")
    assert after.returncode == 0 and after.stdout == before and "dtc.clear" in before
    assert run(app, home, "audit", "verify").returncode == 0

    trust = staging / "etc" / "workshop" / "trust"
    for path in [trust, *trust.rglob("*")]:
        st = path.stat()
        assert st.st_uid == 0 and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH), path
    # the installed store passes the real-adapter check (the demo package then fails its
    # chain: exit 1); one file made writable by others and the store is refused (exit 4)
    run(app, home, "flash", "engine-1.1.0", "--dry-run")  # fills the package store
    pkg = home / "data" / "packages" / "engine-1.1.0.wspkg"
    real = ["--adapter", "pcan", "package", "verify", str(pkg), "--trust", str(trust)]
    verified = run(app, home, *real)
    assert verified.returncode == 1 and "other accounts" not in verified.stderr
    victim = next(p for p in trust.rglob("*") if p.is_file())
    victim.chmod(0o666)
    refused = run(app, home, *real)
    assert refused.returncode == 4 and "can be changed by other accounts" in refused.stderr

    gui = run(app, home, "--gui", "--self-test")  # through /usr/local/bin's symlink
    assert gui.returncode == 0 and "7 of 7 ECUs answered" in gui.stdout, gui.stderr
