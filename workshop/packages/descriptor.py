"""The application descriptor: 32 bytes an image carries to say which software it is.

Real ECUs read their application's version and security version from a block inside the
image (an "application info block"), not from what a tester tells them; the simulated ECUs do
the same with this one. Layout: magic b"WSAPPDSC" | version, 16 bytes ASCII, NUL-padded |
security version, u32 big-endian | 4 reserved zero bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"WSAPPDSC"
LAYOUT = struct.Struct(">8s16sI4x")
SIZE = LAYOUT.size  # 32


@dataclass(frozen=True)
class Descriptor:
    version: str
    security_version: int


def make_descriptor(version: str, security_version: int) -> bytes:
    # The field holds 16 ASCII bytes; an ECU reporting a longer or non-ASCII version would
    # not match the manifest, and the flash would be rolled back at confirmation.
    return LAYOUT.pack(MAGIC, version.encode("ascii", "replace")[:16], security_version)


def embed_descriptor(image: bytes, version: str, security_version: int) -> bytes:
    """`image` with the descriptor over its first 32 bytes."""
    return make_descriptor(version, security_version) + image[SIZE:]


def find_descriptor(image: bytes) -> Descriptor | None:
    at = image.rfind(MAGIC)
    if at < 0 or at + SIZE > len(image):
        return None
    _, raw, security = LAYOUT.unpack_from(image, at)
    try:
        return Descriptor(raw.rstrip(b"\0").decode("ascii"), security)
    except UnicodeDecodeError:
        return None
