from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def technician(monkeypatch: pytest.MonkeyPatch) -> str:
    """WORKSHOP_HOME and the `demo` vehicle come from tests/conftest.py."""
    monkeypatch.setenv("WORKSHOP_TECHNICIAN", "tech-42")
    return "tech-42"
