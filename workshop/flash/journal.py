"""The resume journal: one small file per ECU being flashed, written before the first byte
changes on the ECU and removed only once the ECU's final state is known.

Together with the fingerprint the ECU itself keeps, it lets the next run recognise a flash
that power loss, adapter loss or a crash of this tool interrupted, and finish it.

The journal is a file anyone with the user's rights can edit, so it is only a pointer: it
names the signed audit record of the flash (`flash_seq`), and resume takes what it applies
from that record (services.resume_records). A journal that cannot be read, has fields of the
wrong type, or lives in a symlinked folder is refused in words, never half-used.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from workshop.flash.errors import FlashError
from workshop.foundation.names import UnsafeNameError, safe_name
from workshop.foundation.paths import atomic_write, user_home


class JournalError(FlashError):
    """The journal cannot be trusted or written: nothing is guessed from it."""


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
    flash_seq: int | None = None  # the audit record (intent) of the flash that wrote this


# field -> the types a valid entry has there (JSON gives str, int, None, dict)
_TYPES: dict[str, tuple[type, ...]] = {
    "vehicle": (str,), "ecu": (str,), "package_path": (str,), "package_sha256": (str,),
    "package_id": (str,), "version_before": (str, type(None)), "new_version": (str,),
    "fingerprint": (str,), "stage": (str,), "started": (str,), "overrides": (dict,),
    "flash_seq": (int, type(None)),
}


def _root() -> Path:
    return user_home() / "flash" / "journal"


def journal_dir(vehicle: str) -> Path:
    try:
        return _root() / safe_name("vehicle name", vehicle)
    except UnsafeNameError as exc:
        raise JournalError(exc.message, hint=exc.hint) from exc


def _check_folder(folder: Path) -> None:
    """Every folder from user_home()/flash down must be a real folder: a symlink would let
    whoever placed it choose where the tool reads and writes its resume state."""
    home = user_home()
    for path in (home / "flash", _root(), folder):
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise JournalError(f"cannot read the flash journal folder {path}: {exc}",
                               hint="check the folder's permissions") from exc
        if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
            raise JournalError(f"the flash journal folder {path} is a "
                               f"{'symbolic link' if stat.S_ISLNK(mode) else 'file'}, not a "
                               "folder: refusing to keep resume state there",
                               hint=f"remove {path} (the tool makes the folder itself), then "
                                    "run 'workshop flash resume' to find interrupted flashes")


def _path(vehicle: str, ecu: str) -> Path:
    try:
        return journal_dir(vehicle) / f"{safe_name('ECU name', ecu)}.json"
    except UnsafeNameError as exc:
        raise JournalError(exc.message, hint=exc.hint) from exc


def check_usable(vehicle: str) -> None:
    """Raise JournalError when a flash could not keep its resume state (checked before any
    ECU is changed, so a bad folder stops the flash while nothing is written)."""
    folder = journal_dir(vehicle)
    _check_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalError(f"cannot create the flash journal folder {folder}: {exc}",
                           hint="check the folder's permissions and free space") from exc
    _check_folder(folder)


def write(entry: JournalEntry) -> None:
    path = _path(entry.vehicle, entry.ecu)
    _check_folder(path.parent)
    try:
        atomic_write(path, json.dumps(asdict(entry), indent=1).encode())
    except OSError as exc:
        raise JournalError(f"cannot write the flash journal {path}: {exc}",
                           hint="check the folder's permissions and free space") from exc


def remove(vehicle: str, ecu: str) -> None:
    path = _path(vehicle, ecu)
    _check_folder(path.parent)
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise JournalError(f"cannot remove the flash journal {path}: {exc}",
                           hint="check the folder's permissions") from exc


def parse(path: Path, text: str) -> JournalEntry:
    """One journal file, every field of its type; JournalError naming file and field."""
    hint = (f"move {path} aside and run 'workshop flash resume' again: every ECU of the "
            "vehicle is asked whether it waits in its bootloader")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise JournalError(f"flash journal {path} is not valid JSON: {exc}", hint=hint) from exc
    if not isinstance(doc, dict):
        raise JournalError(f"flash journal {path} must be a JSON object", hint=hint)
    known = {f.name for f in fields(JournalEntry)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise JournalError(f"flash journal {path} has unknown field(s) {', '.join(unknown)}",
                           hint=hint)
    for name, types in _TYPES.items():
        required = name not in ("overrides", "flash_seq")
        if name not in doc:
            if required:
                raise JournalError(f"flash journal {path} lacks {name!r}", hint=hint)
            continue
        value = doc[name]
        if not isinstance(value, types) or isinstance(value, bool):
            raise JournalError(f"flash journal {path}: {name!r} has the wrong type "
                               f"({type(value).__name__})", hint=hint)
    if not all(isinstance(k, str) and isinstance(v, str)
               for k, v in doc.get("overrides", {}).items()):
        raise JournalError(f"flash journal {path}: 'overrides' must map checks to reasons",
                           hint=hint)
    return JournalEntry(**doc)


def entries(vehicle: str) -> list[JournalEntry]:
    """Every interrupted flash recorded for this vehicle. JournalError for a file that
    cannot be used: guessing past it could hide an ECU waiting in its bootloader."""
    folder = journal_dir(vehicle)
    _check_folder(folder)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            if path.is_symlink():
                raise JournalError(f"flash journal {path} is a symbolic link",
                                   hint=f"remove {path}, then resume again")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise JournalError(f"cannot read flash journal {path}: {exc}",
                               hint=f"move {path} aside and resume again") from exc
        found.append(parse(path, text))
    return found
