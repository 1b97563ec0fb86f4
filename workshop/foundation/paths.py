"""Where per-user state and shipped resources live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs


def user_home() -> Path:
    """Per-user data folder: $WORKSHOP_HOME when set (tests), else the OS's user data dir."""
    env = os.environ.get("WORKSHOP_HOME")
    path = Path(env) if env else Path(platformdirs.user_data_dir("workshop", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_dir(name: str) -> Path:
    """A per-user subfolder (audit, packages, baselines...), created on first use."""
    path = user_home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def resources_dir() -> Path:
    """Shipped resources: beside the source tree, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
