"""Persistent ECU state (DTC memory), kept between runs like a real vehicle on the bench."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from workshop.foundation.paths import atomic_write, user_home


def vehicle_state_dir(vehicle: str) -> Path:
    return user_home() / "sim" / vehicle


class VehicleStore:
    """One JSON file per vehicle: {ecu: {"dtcs": {dtc_hex: status}, "erased": [dtc_hex]}}."""

    def __init__(self, vehicle: str) -> None:
        self.path = vehicle_state_dir(vehicle) / "state.json"
        self._lock = threading.Lock()
        try:
            self._data: dict[str, dict[str, object]] = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            self._data = {}

    def ecu(self, name: str) -> dict[str, object]:
        with self._lock:
            return dict(self._data.get(name, {}))

    def save_ecu(self, name: str, state: dict[str, object]) -> None:
        with self._lock:
            self._data[name] = state
            atomic_write(self.path, json.dumps(self._data, indent=1).encode())


def reset_state(vehicle: str) -> bool:
    """Restore factory state; True when there was state to remove."""
    folder = vehicle_state_dir(vehicle)
    existed = folder.exists()
    shutil.rmtree(folder, ignore_errors=True)
    return existed
