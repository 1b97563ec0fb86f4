"""Shared fixtures: an isolated WORKSHOP_HOME and open connections to simulated vehicles."""

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
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    return tmp_path


def unique_adapter() -> AdapterConfig:
    return AdapterConfig(channel=f"test-{uuid.uuid4()}")


def open_vehicle(name_or_path: str | Path) -> VehicleConnection:
    return VehicleConnection(unique_adapter(), load_vehicle(name_or_path)).open()


@pytest.fixture
def demo() -> Iterator[VehicleConnection]:
    conn = open_vehicle("demo-car")
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def truck() -> Iterator[VehicleConnection]:
    conn = open_vehicle("truck")
    try:
        yield conn
    finally:
        conn.close()
