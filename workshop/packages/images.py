"""Content-addressed local image store (user_home()/images/<sha256>) and delta reconstruction.

The store and its index.json are files anyone with the user's rights can write. So bytes are
only ever used by hash (checked on every read), and which hash is which version of an ECU is
never taken from the index: the caller proves it from a signed source (a verified package,
a signed audit record) and asks `proven_regions` for the bytes of exactly those hashes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import bsdiff4

from workshop.foundation.paths import atomic_write, file_lock, user_home
from workshop.packages.errors import DeltaBaseMissingError, PayloadHashError


@dataclass(frozen=True)
class StoredRegion:
    sha256: str
    address: int
    length: int
    erase_address: int
    erase_length: int


def store_dir() -> Path:
    return user_home() / "images"


def put_image(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = store_dir() / digest
    if not path.exists():
        atomic_write(path, data)
    return digest


def get_image(sha256: str) -> bytes:
    path = store_dir() / sha256
    if not path.is_file():
        raise DeltaBaseMissingError(
            f"delta check failed: base image {sha256} is not in the local image store "
            f"({store_dir()})",
            hint="verify the previous full package once (it fills the store), or obtain the "
                 "full (non-delta) package")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise PayloadHashError(f"image store check failed: {path} does not match its hash",
                               hint="delete the file and verify the full package again")
    return data


def apply_delta(base_sha256: str, patch: bytes, expected_sha256: str) -> bytes:
    base = get_image(base_sha256)
    try:
        image = bsdiff4.patch(base, patch)
    except Exception as exc:  # bsdiff4 raises bare ValueError/RuntimeError on bad patches
        raise PayloadHashError(f"delta check failed: patch does not apply to base "
                               f"{base_sha256}", hint="the package is corrupt") from exc
    if hashlib.sha256(image).hexdigest() != expected_sha256:
        raise PayloadHashError(f"delta check failed: reconstructed image hash differs from "
                               f"the manifest ({expected_sha256})",
                               hint="the base image or patch is wrong; use the full package")
    return image


# -- which image is which version of which ECU (rollback of single-bank ECUs) ------------------

def _index_path() -> Path:
    return store_dir() / "index.json"


def _read_index() -> dict[str, dict[str, list[dict[str, int | str]]]]:
    try:
        doc = json.loads(_index_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def remember_version(ecu: str, version: str, regions: list[StoredRegion]) -> None:
    """Record that `version` of `ecu` consists of these stored images (each already put)."""
    with file_lock(store_dir() / "index.lock"):
        index = _read_index()
        index.setdefault(ecu, {})[version] = [asdict(r) for r in regions]
        atomic_write(_index_path(), json.dumps(index, indent=1, sort_keys=True).encode())


def has_image(sha256: str) -> bool:
    """The store holds bytes that really hash to `sha256` (a placed or edited file does not
    count)."""
    try:
        get_image(sha256)
    except (DeltaBaseMissingError, PayloadHashError, OSError):
        return False
    return True


def proven_regions(regions: list[StoredRegion]) -> list[StoredRegion] | None:
    """`regions` (from a signed source) when the store holds every image with its hash."""
    if not regions or not all(has_image(r.sha256) for r in regions):
        return None
    return list(regions)


def version_images(ecu: str, version: str) -> list[StoredRegion] | None:
    """What the unsigned index claims are the images of `version` of `ecu` (every one still
    in the store). A claim only: never flash from it without a signed proof of the hashes."""
    entry = _read_index().get(ecu, {}).get(version)
    if not isinstance(entry, list) or not entry:
        return None
    try:
        regions = [StoredRegion(str(r["sha256"]), int(r["address"]), int(r["length"]),
                                int(r["erase_address"]), int(r["erase_length"]))
                   for r in entry]
    except (KeyError, TypeError, ValueError):
        return None
    if not all((store_dir() / r.sha256).is_file() for r in regions):
        return None
    return regions
