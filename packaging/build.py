"""Build the offline installer on the OS it is for (PyInstaller does not cross-build).

    python packaging/build.py [--dist DIR] [--work DIR]

- every OS: the folder bundle DIST/workshop/ with `workshop` (console CLI) and
  `workshop-gui` (windowed app), from packaging/workshop.spec;
- Linux: DIST/workshop-<version>-linux-<arch>.tar.gz holding that folder, install.sh and
  workshop.desktop; an AppImage too when `appimagetool` is on PATH (it is neither on PyPI
  nor in Debian, so it is skipped with a note when absent);
- Windows: DIST/workshop-<version>-setup.exe from packaging/workshop.iss when Inno Setup's
  `iscc` is on PATH (otherwise the command to run is printed).
Prints the bundle's and the archive's size.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from workshop import __version__  # noqa: E402

LINUX_EXTRAS = ("install.sh", "workshop.desktop")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def bundle(dist: Path, work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "PyInstaller", str(HERE / "workshop.spec"),
                    "--noconfirm", "--distpath", str(dist), "--workpath", str(work),
                    "--log-level", "WARN"], check=True, cwd=ROOT)
    return dist / "workshop"


def linux_archive(folder: Path, dist: Path) -> Path:
    arch = platform.machine().lower() or "unknown"
    name = f"workshop-{__version__}-linux-{arch}"
    out = dist / f"{name}.tar.gz"

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode &= ~0o022  # nothing in the archive is writable by group or others
        return info

    with tarfile.open(out, "w:gz") as tar:
        tar.add(folder, arcname=f"{name}/workshop", filter=owned_by_root)
        for extra in LINUX_EXTRAS:
            tar.add(HERE / extra, arcname=f"{name}/{extra}", filter=owned_by_root)
    return out


def appimage(folder: Path, dist: Path) -> Path | None:
    tool = shutil.which("appimagetool")
    if tool is None:
        print("AppImage: skipped, appimagetool is not on PATH (it is published on GitHub, "
              "not on PyPI or in Debian)")
        return None
    appdir = dist / "workshop.AppDir"
    shutil.rmtree(appdir, ignore_errors=True)
    shutil.copytree(folder, appdir / "usr" / "lib" / "workshop", symlinks=True)
    shutil.copy(HERE / "workshop.desktop", appdir / "workshop.desktop")
    shutil.copy(ROOT / "resources" / "icons" / "workshop.png", appdir / "workshop.png")
    run = appdir / "AppRun"
    run.write_text('#!/bin/sh\nexec "$(dirname "$(readlink -f "$0")")/usr/lib/workshop/'
                   'workshop-gui" "$@"\n')
    run.chmod(0o755)
    out = dist / f"workshop-{__version__}-{platform.machine()}.AppImage"
    subprocess.run([tool, str(appdir), str(out)], check=True,
                   env={**os.environ, "ARCH": platform.machine()})
    return out


def windows_installer(dist: Path) -> Path | None:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    command = [iscc or "iscc", f"/DVersion={__version__}", f"/DDist={dist}",
               f"/O{dist}", str(HERE / "workshop.iss")]
    if iscc is None:
        print("Windows installer: Inno Setup 6 is not on PATH; install it, then run:\n  "
              + " ".join(command))
        return None
    subprocess.run(command, check=True)
    return dist / f"workshop-{__version__}-setup.exe"


def main() -> int:
    ap = argparse.ArgumentParser(description="build the workshop bundle and installer")
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    ap.add_argument("--work", type=Path, default=ROOT / "build")
    args = ap.parse_args()
    dist = args.dist.resolve()
    folder = bundle(dist, args.work.resolve())
    print(f"bundle: {folder} ({folder_size(folder) / 1e6:.1f} MB unpacked)")
    made: list[Path | None] = []
    if sys.platform.startswith("linux"):
        made += [linux_archive(folder, dist), appimage(folder, dist)]
    elif sys.platform == "win32":
        made.append(windows_installer(dist))
    for out in made:
        if out is not None:
            print(f"installer: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
