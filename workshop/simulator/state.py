"""Persistent ECU state (DTC memory), kept between runs like a real vehicle on the bench."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from workshop.foundation.errors import ConfigError
from workshop.foundation.names import inside, safe_name
from workshop.foundation.paths import atomic_write, user_home

_DTC_HEX = set("0123456789ABCDEF")


def vehicle_state_dir(vehicle: str) -> Path:
    """The vehicle's state folder; the name must be a plain name and stay inside sim/."""
    root = user_home() / "sim"
    return inside(root, root / safe_name("vehicle name", vehicle))


def _reset_hint(path: Path) -> str:
    return (f"run 'workshop sim reset' for this vehicle to restore its factory state "
            f"(or delete {path})")


def _bad_state(path: Path, what: str) -> ConfigError:
    return ConfigError(f"simulator state file {path} is invalid: {what}", hint=_reset_hint(path))


def _is_dtc_hex(value: object) -> bool:
    return isinstance(value, str) and len(value) == 6 and set(value) <= _DTC_HEX


def _check_state(doc: object, path: Path) -> dict[str, dict[str, object]]:
    """The shape written by save_ecu; anything else is named by its key path."""
    if not isinstance(doc, dict):
        raise _bad_state(path, "the top level must be an object of ECU names")
    for ecu, state in doc.items():
        if not isinstance(state, dict):
            raise _bad_state(path, f"{ecu} must be an object")
        dtcs = state.get("dtcs", {})
        if not isinstance(dtcs, dict):
            raise _bad_state(path, f"{ecu}.dtcs must be an object")
        for code, status in dtcs.items():
            if not _is_dtc_hex(code) or type(status) is not int or not 0 <= status <= 0xFF:
                raise _bad_state(path, f"{ecu}.dtcs.{code} must map a 6-digit hex DTC to a "
                                       "status byte")
        erased = state.get("erased", [])
        if not isinstance(erased, list) or not all(_is_dtc_hex(x) for x in erased):
            raise _bad_state(path, f"{ecu}.erased must list 6-digit hex DTCs")
    return doc


def load_state(path: Path) -> dict[str, dict[str, object]]:
    """The saved state, {} when there is none; ConfigError naming the file (and line) when it
    cannot be used."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read simulator state file {path}: {exc.strerror}",
                          hint=_reset_hint(path)) from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _bad_state(path, f"not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise _bad_state(path, f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise _bad_state(path, "nested too deeply") from exc
    return _check_state(doc, path)


class VehicleStore:
    """One JSON file per vehicle: {ecu: {"dtcs": {dtc_hex: status}, "erased": [dtc_hex]}}."""

    def __init__(self, vehicle: str) -> None:
        self.path = vehicle_state_dir(vehicle) / "state.json"
        self._lock = threading.Lock()
        self._data = load_state(self.path)

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
