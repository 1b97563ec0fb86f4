from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop.services.connection import VehicleConnection
from workshop.transport.adapters import AdapterConfig
from workshop.vehicles import load_vehicle


@pytest.fixture(autouse=True)
def workshop_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKSHOP_TECHNICIAN", "tech-42")
    return tmp_path / "home"


@pytest.fixture
def demo_conn() -> Iterator[VehicleConnection]:
    conn = VehicleConnection(AdapterConfig(channel=f"svc-{uuid.uuid4()}"),
                             load_vehicle("demo-car"))
    with conn:
        yield conn
