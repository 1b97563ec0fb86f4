"""Content-addressed local image store (user_home()/images/<sha256>) and delta reconstruction."""

from __future__ import annotations

import hashlib
from pathlib import Path

import bsdiff4

from workshop.foundation.paths import atomic_write, user_home
from workshop.packages.errors import DeltaBaseMissingError, PayloadHashError


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
