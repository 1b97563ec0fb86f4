"""Start-up time of the offline bundle, cold and warm, beside the development install.

Run: python benchmarks/bundle.py [--bundle dist/workshop] [--runs 7]
(builds dist/workshop with packaging/build.py when it is missing)

cold: the OS page cache is dropped before each run (needs root: /proc/sys/vm/drop_caches);
      where that is not allowed, the figure says so and is only a first run.
warm: the same command again right away.
Commands: `workshop --version` and `workshop-gui --self-test` (opens the main window
offscreen, connects to the simulated vehicle, scans 7 ECUs, exits). Medians of --runs runs;
the machine is shared, so compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=ROOT / "dist" / "workshop")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if not (args.bundle / "workshop").exists():
        subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py")], check=True)
    home = Path(tempfile.mkdtemp())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "WORKSHOP_HOME": str(home / "data"),
           "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    venv = Path(sys.executable).parent
    commands = {
        "bundle  workshop --version": [str(args.bundle / "workshop"), "--version"],
        "venv    workshop --version": [str(venv / "workshop"), "--version"],
        "bundle  workshop-gui --self-test": [str(args.bundle / "workshop-gui"), "--self-test"],
        "venv    workshop-gui --self-test": [str(venv / "workshop-gui"), "--self-test"],
    }
    # the first run sets up per-user data (demo PKI): that is not start-up
    timed(commands["bundle  workshop --version"], env)
    timed(commands["bundle  workshop-gui --self-test"], env)
    cold_ok = drop_caches()
    for label, command in commands.items():
        cold, warm = [], []
        for _ in range(args.runs):
            drop_caches()
            cold.append(timed(command, env))
            warm.append(timed(command, env))
        print(f"{label:34} cold {statistics.median(cold):5.2f} s   warm "
              f"{statistics.median(warm):5.2f} s   (median of {args.runs})", flush=True)
    if not cold_ok:
        print("note: the page cache could not be dropped (not root): 'cold' is not cold")
    size = sum(p.stat().st_size for p in args.bundle.rglob("*") if p.is_file()
               and not p.is_symlink())
    print(f"bundle size {size / 1e6:.1f} MB unpacked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
