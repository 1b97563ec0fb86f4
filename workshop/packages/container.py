"""Defensive zip access: entry-name rules, duplicates, bounded reads, chunked hashing."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from workshop.packages.errors import (
    DuplicateEntryError,
    PackageFormatError,
    PathEscapeError,
    PayloadSizeError,
)

MANIFEST = "manifest.json"
SIGNATURE = "signature.bin"
CHAIN = "chain.pem"
CHUNK = 1024 * 1024
# Everything zipfile may raise on hostile input; converted to PackageFormatError.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
              NotImplementedError, RuntimeError, struct.error, KeyError, OverflowError,
              IndexError, TypeError, UnicodeError, zipfile.LargeZipFile)


def check_entry_name(entry: str) -> None:
    p = PurePosixPath(entry)
    if (not entry or "\\" in entry or "\x00" in entry or p.is_absolute() or ".." in p.parts
            or entry.startswith("/") or ":" in entry or entry != str(p)):
        raise PathEscapeError(f"container check failed: entry name {entry!r} escapes the "
                              "package or is not a plain relative path",
                              hint="the package is malformed or malicious; do not use it")


class Container:
    """An opened package zip. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except FileNotFoundError as exc:
            raise PackageFormatError(f"container check failed: {path} does not exist",
                                     hint="check the package path") from exc
        except ZIP_ERRORS as exc:
            raise PackageFormatError(f"container check failed: {path} is not a readable zip "
                                     f"({type(exc).__name__})",
                                     hint="the package is truncated or corrupt") from exc
        self.entries: dict[str, zipfile.ZipInfo] = {}
        try:
            for info in infos:
                check_entry_name(info.filename)
                if info.filename in self.entries:
                    raise DuplicateEntryError(f"container check failed: duplicate entry "
                                              f"{info.filename!r}",
                                              hint="the package is malformed or malicious")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise PackageFormatError(f"container check failed: entry {info.filename!r} "
                                             "uses an unsupported compression method")
                if info.flag_bits & 0x1:
                    raise PackageFormatError(f"container check failed: entry {info.filename!r}"
                                             " is encrypted")
                self.entries[info.filename] = info
        except PackageFormatError:
            self._zip.close()
            raise

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self.entries.get(name)
        if info is None:
            raise PackageFormatError(f"container check failed: entry {name!r} is missing",
                                     hint="the package is incomplete")
        return info

    def read_small(self, name: str, limit: int) -> bytes:
        """Read a whole entry, refusing anything over `limit` bytes."""
        chunks = list(self.iter_chunks(name, limit, exact=False))
        return b"".join(chunks)

    def iter_chunks(self, name: str, size: int, *, exact: bool = True) -> Iterator[bytes]:
        """Yield the entry in chunks; stop as soon as it exceeds `size` (zip-bomb guard)."""
        info = self._info(name)
        if info.file_size > size or (exact and info.file_size != size):
            raise PayloadSizeError(f"size check failed: {name!r} is {info.file_size} bytes, "
                                   f"{'declared' if exact else 'limit'} {size}",
                                   hint="the package is corrupt or malicious")
        total = 0
        try:
            with self._open(info) as fh:
                while True:
                    chunk = fh.read(min(CHUNK, size - total + 1))
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > size:
                        raise PayloadSizeError(f"size check failed: {name!r} holds more than "
                                               f"the declared {size} bytes",
                                               hint="the package is corrupt or malicious")
                    yield chunk
        except PayloadSizeError:
            raise
        except ZIP_ERRORS as exc:
            raise PackageFormatError(f"container check failed: entry {name!r} is corrupt "
                                     f"({type(exc).__name__})",
                                     hint="the package is truncated or corrupt") from exc
        if exact and total != size:
            raise PayloadSizeError(f"size check failed: {name!r} holds {total} bytes, declared "
                                   f"{size}", hint="the package is truncated or corrupt")

    def _open(self, info: zipfile.ZipInfo) -> IO[bytes] | _Limited:
        """STORED entries are read straight from the file: zipfile's per-read CRC-32 would
        cost ~30% of throughput, and SHA-256 against the signed manifest is the real check."""
        if info.compress_type != zipfile.ZIP_STORED:
            return self._zip.open(info)
        fh = open(self.path, "rb")  # noqa: SIM115 (returned to a with-block)
        try:
            fh.seek(info.header_offset)
            header = fh.read(30)
            if len(header) != 30 or header[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile("bad local file header")
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
            if fh.read(name_len).decode(encoding) != info.orig_filename:
                raise zipfile.BadZipFile("local header name differs from central directory")
            fh.seek(extra_len, 1)
            return _Limited(fh, info.file_size)
        except BaseException:
            fh.close()
            raise

    def sha256(self, name: str, size: int) -> str:
        h = hashlib.sha256()
        for chunk in self.iter_chunks(name, size):
            h.update(chunk)
        return h.hexdigest()


class _Limited(io.RawIOBase):
    """Read at most `size` bytes of `fh` from its current position."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh, self._left = fh, size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._fh.read(n)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._fh.close()
        super().close()
