from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def workshop_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("WORKSHOP_HOME", str(home))
    return home
