"""The resume journal: one small file per ECU being flashed, written before the first byte
changes on the ECU and removed only once the ECU's final state is known.

Together with the fingerprint the ECU itself keeps, it lets the next run recognise a flash
that power loss, adapter loss or a crash of this tool interrupted, and finish it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workshop.foundation.names import inside, safe_name
from workshop.foundation.paths import atomic_write, user_home


@dataclass
class JournalEntry:
    vehicle: str
    ecu: str
    package_path: str
    package_sha256: str
    package_id: str
    version_before: str | None
    new_version: str
    fingerprint: str  # hex, as written to the ECU
    stage: str  # programming | checked
    started: str
    overrides: dict[str, str] = field(default_factory=dict)  # as the technician gave them


def journal_dir(vehicle: str) -> Path:
    root = user_home() / "flash" / "journal"
    return inside(root, root / safe_name("vehicle name", vehicle))


def _path(vehicle: str, ecu: str) -> Path:
    folder = journal_dir(vehicle)
    return inside(folder, folder / f"{safe_name('ECU name', ecu)}.json")


def write(entry: JournalEntry) -> None:
    atomic_write(_path(entry.vehicle, entry.ecu), json.dumps(asdict(entry), indent=1).encode())


def remove(vehicle: str, ecu: str) -> None:
    _path(vehicle, ecu).unlink(missing_ok=True)


def entries(vehicle: str) -> list[JournalEntry]:
    """Every interrupted flash recorded for this vehicle; unreadable files are skipped (the
    ECU's own state still tells whether it needs a flash)."""
    found = []
    folder = journal_dir(vehicle)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            found.append(JournalEntry(**doc))
        except (OSError, ValueError, TypeError):
            continue
    return found
