"""A plain (non-editable) wheel, as a user installs one from an index: it carries every shipped
resource, and installed into a fresh venv, away from the source tree, the CLI scans and
flashes the simulated vehicle. Before, the wheel had no resources/ and `workshop scan` said
"no vehicle definition 'demo-car'" (CI only ever installed editable).

Nothing is downloaded for the installed copy: the wheel goes in with --no-index --no-deps,
and the fresh venv sees this environment's third-party packages (python-can, cryptography...)
through a .pth file, without this environment's own (editable) workshop."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SOURCES = ["workshop", "ui", "resources", "pyproject.toml", "setup.py", "MANIFEST.in",
           "README.md"]
OWN = ("workshop", "__editable__", "ui")  # this checkout's install in this environment


def _copy_sources(to: Path) -> Path:
    to.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, to / name, ignore=ignore)
        else:
            shutil.copy2(src, to / name)
    return to


def _third_party_only(folder: Path) -> Path:
    """This environment's site-packages without workshop's own install and .pth hooks."""
    folder.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.startswith(OWN) or entry.suffix == ".pth":
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


def test_wheel_carries_the_resources_and_its_install_scans_and_flashes(tmp_path: Path) -> None:
    src = _copy_sources(tmp_path / "src")
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(dist), str(src)], check=True, timeout=600, cwd=tmp_path)
    (wheel,) = dist.glob("workshop-*.whl")
    shutil.rmtree(src)  # the installed copy can use nothing of a source tree

    inside = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.relative_to(ROOT / "resources").as_posix()
               for p in (ROOT / "resources").rglob("*") if p.is_file()]
    assert {"vehicles/demo-car.toml", "icons/workshop.png"} <= set(shipped)
    missing = [f for f in shipped if f"workshop/resources/{f}" not in inside]
    assert not missing, f"not in the wheel: {missing}"

    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(fresh)], check=True, timeout=300)
    bindir = fresh / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    str(wheel)], check=True, timeout=300)
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "third-party.pth").write_text(f"{_third_party_only(tmp_path / 'deps')}\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(elsewhere),
           "WORKSHOP_HOME": str(elsewhere / "data"), "LANG": "C.UTF-8"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), env=env, cwd=elsewhere, capture_output=True,
                              text=True, timeout=300, check=False)

    where = run(str(python), "-c", "import workshop; from workshop.foundation.paths import "
                "resources_dir; print(workshop.__file__); print(resources_dir())")
    assert where.returncode == 0, where.stderr
    module, resources = (Path(line) for line in where.stdout.split())
    assert module.is_relative_to(site) and resources.is_relative_to(site)
    assert (resources / "icons" / "workshop.png").is_file()

    scan = run(str(bindir / "workshop"), "scan", "--json")
    assert scan.returncode == 0, scan.stderr
    doc = json.loads(scan.stdout)
    assert doc["vehicle"] == "demo-car" and len(doc["ecus"]) == 7
    assert all(e["responded"] and e["software_version"] == "1.0.0" for e in doc["ecus"])

    flash = run(str(bindir / "workshop"), "flash", "engine-1.1.0", "--yes", "--json")
    assert flash.returncode == 0, flash.stdout + flash.stderr
    result = json.loads(flash.stdout)
    assert result["ok"] and result["ecus"][0]["outcome"] == "success"
    assert result["ecus"][0]["version_after"] == "1.1.0"
