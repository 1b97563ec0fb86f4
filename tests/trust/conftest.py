from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Import this worktree's `workshop` and `tests` even under plain `pytest` (the venv may hold
# an editable install of another checkout).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


@pytest.fixture(autouse=True)
def workshop_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("WORKSHOP_HOME", str(home))
    return home
