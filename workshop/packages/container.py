"""The package container: one canonical zip layout, defined byte for byte, and nothing else.

A package file is, with no byte before, between or after:

    for each entry, in canonical order:      local header | name | data
    for each entry, in the same order:       central header | name
                                             end of central directory record

Canonical order: manifest.json, signature.bin, chain.pem, then the other entries (payloads)
in ascending order of their names. Names are plain relative ASCII paths (see
check_entry_name). Every header field is fixed except name length, sizes, CRC-32 and the
central header's offset, which are determined by the entries:

    local header (30 bytes)    PK\\3\\4, version needed 20, flags 0, method 0 (STORED),
                               time 0, date 0x0021 (1980-01-01), CRC-32, size, size,
                               name length, extra length 0
    central header (46 bytes)  PK\\1\\2, version made by 20, version needed 20, flags 0,
                               method 0, time 0, date 0x0021, CRC-32, size, size,
                               name length, extra 0, comment 0, disk 0, internal 0,
                               external 0, offset of the local header
    end record (22 bytes)      PK\\5\\6, disk 0, disk 0, entries, entries, directory size,
                               directory offset, comment length 0

No zip64, no extra fields, no data descriptors, no comments, no encryption, no compression.
The reader refuses any other byte sequence, and checks each entry's CRC-32 whenever the
entry is read in full (verification reads every entry), so the SHA-256 of the file
identifies the package: two files with the same content are the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from workshop.packages.errors import (
    DuplicateEntryError,
    PackageFormatError,
    PathEscapeError,
    PayloadSizeError,
)

MANIFEST = "manifest.json"
SIGNATURE = "signature.bin"
CHAIN = "chain.pem"
FIRST = (MANIFEST, SIGNATURE, CHAIN)
CHUNK = 1024 * 1024

VERSION = 20
DOS_DATE = 0x0021  # 1980-01-01, the earliest zip date: no build time in the bytes
LOCAL = struct.Struct("<4sHHHHHIIIHH")
CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
END = struct.Struct("<4sHHHHIIH")
LOCAL_SIG, CENTRAL_SIG, END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
MAX_ENTRIES = 4096
MAX_NAME = 255
MAX_SIZE = 0xFFFFFFFE  # 0xFFFFFFFF would announce zip64


def check_entry_name(entry: str) -> None:
    p = PurePosixPath(entry)
    if (not entry or "\\" in entry or "\x00" in entry or p.is_absolute() or ".." in p.parts
            or entry.startswith("/") or ":" in entry or entry != str(p)
            or not entry.isascii() or not entry.isprintable() or len(entry) > MAX_NAME):
        raise PathEscapeError(f"container check failed: entry name {entry!r} escapes the "
                              "package or is not a plain relative path",
                              hint="the package is malformed or malicious; do not use it")


def canonical_order(names: Iterable[str]) -> list[str]:
    def key(name: str) -> tuple[int, bytes]:
        return (FIRST.index(name) if name in FIRST else len(FIRST), name.encode())
    return sorted(names, key=key)


def local_header(name: bytes, size: int, crc: int) -> bytes:
    return LOCAL.pack(LOCAL_SIG, VERSION, 0, 0, 0, DOS_DATE, crc, size, size, len(name), 0)


def central_header(name: bytes, size: int, crc: int, offset: int) -> bytes:
    return CENTRAL.pack(CENTRAL_SIG, VERSION, VERSION, 0, 0, 0, DOS_DATE, crc, size, size,
                        len(name), 0, 0, 0, 0, 0, offset)


def write_container(fh: BinaryIO, entries: list[tuple[str, bytes]]) -> None:
    """Write `entries` in the given order in the canonical layout (the caller orders them;
    build.write_package uses canonical_order)."""
    central = bytearray()
    offset = 0
    for name, data in entries:
        raw = name.encode("ascii")
        crc = zlib.crc32(data)
        central += central_header(raw, len(data), crc, offset) + raw
        fh.write(local_header(raw, len(data), crc) + raw)
        fh.write(data)
        offset += LOCAL.size + len(raw) + len(data)
    fh.write(bytes(central))
    fh.write(END.pack(END_SIG, 0, 0, len(entries), len(entries), len(central), offset, 0))


def _refuse(what: str) -> PackageFormatError:
    return PackageFormatError(f"container check failed: {what}",
                              hint="the package is truncated, corrupt or not built by "
                                   "workshop; do not use it")


@dataclass(frozen=True)
class Entry:
    name: str
    data_offset: int
    file_size: int
    crc: int


class Container:
    """An opened package file whose layout is canonical. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fh: BinaryIO = open(path, "rb")  # noqa: SIM115 (closed by close())
        except FileNotFoundError as exc:
            raise PackageFormatError(f"container check failed: {path} does not exist",
                                     hint="check the package path") from exc
        except OSError as exc:
            raise PackageFormatError(f"container check failed: cannot read {path}: "
                                     f"{exc.strerror}", hint="check the package path") from exc
        try:
            self.entries = self._parse()
        except BaseException:
            self._fh.close()
            raise

    def _read_at(self, offset: int, size: int) -> bytes:
        self._fh.seek(offset)
        data = self._fh.read(size)
        if len(data) != size:
            raise _refuse("the file ends early")
        return data

    def _parse(self) -> dict[str, Entry]:
        size = os.fstat(self._fh.fileno()).st_size
        if size < END.size:
            raise _refuse(f"{self.path} is too short to be a package")
        sig, d1, d2, n_disk, n, cd_size, cd_offset, comment = END.unpack(
            self._read_at(size - END.size, END.size))
        if sig != END_SIG or (d1, d2, comment) != (0, 0, 0) or n_disk != n:
            raise _refuse("the file does not end with a plain end-of-directory record")
        if not 0 < n <= MAX_ENTRIES or cd_offset + cd_size != size - END.size:
            raise _refuse("the central directory does not end where the end record starts")
        directory = self._read_at(cd_offset, cd_size)
        entries: dict[str, Entry] = {}
        pos = offset = 0
        for i in range(n):
            if pos + CENTRAL.size > cd_size:
                raise _refuse(f"central directory entry {i} is cut off")
            fields = CENTRAL.unpack_from(directory, pos)
            name_len, crc, file_size, header_offset = fields[10], fields[7], fields[8], \
                fields[16]
            raw = directory[pos + CENTRAL.size:pos + CENTRAL.size + name_len]
            if len(raw) != name_len or not 0 < name_len <= MAX_NAME:
                raise _refuse(f"central directory entry {i} has a bad name length")
            if file_size > MAX_SIZE or header_offset != offset:
                raise _refuse(f"central directory entry {i} has a bad size or offset")
            if directory[pos:pos + CENTRAL.size] != central_header(raw, file_size, crc, offset):
                raise _refuse(f"central directory entry {i} has non-canonical header fields")
            try:
                name = raw.decode("ascii")
            except UnicodeDecodeError:
                raise PathEscapeError(f"container check failed: entry name {raw!r} is not "
                                      "ASCII", hint="the package is malformed or malicious"
                                      ) from None
            check_entry_name(name)
            if name in entries:
                raise DuplicateEntryError(f"container check failed: duplicate entry {name!r}",
                                          hint="the package is malformed or malicious")
            expected_local = local_header(raw, file_size, crc) + raw
            if self._read_at(offset, len(expected_local)) != expected_local:
                raise _refuse(f"the local header of {name!r} differs from its canonical form")
            entries[name] = Entry(name, offset + len(expected_local), file_size, crc)
            offset += len(expected_local) + file_size
            pos += CENTRAL.size + name_len
        if pos != cd_size or offset != cd_offset:
            raise _refuse("there are bytes between the entries and the central directory")
        if list(entries) != canonical_order(entries):
            raise _refuse("entries are not in canonical order (manifest.json, signature.bin, "
                          "chain.pem, then payloads by name)")
        return entries

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    def _info(self, name: str) -> Entry:
        info = self.entries.get(name)
        if info is None:
            raise PackageFormatError(f"container check failed: entry {name!r} is missing",
                                     hint="the package is incomplete")
        return info

    def read_small(self, name: str, limit: int) -> bytes:
        """Read a whole entry, refusing anything over `limit` bytes."""
        return b"".join(self.iter_chunks(name, limit, exact=False))

    def iter_chunks(self, name: str, size: int, *, exact: bool = True) -> Iterator[bytes]:
        """Yield the whole entry in chunks, refusing it unless it is `size` bytes (at most
        `size` when not `exact`); its CRC-32 is checked after the last chunk."""
        info = self._info(name)
        if info.file_size > size or (exact and info.file_size != size):
            raise PayloadSizeError(f"size check failed: {name!r} is {info.file_size} bytes, "
                                   f"{'declared' if exact else 'limit'} {size}",
                                   hint="the package is corrupt or malicious")
        crc = 0
        done = 0
        while done < info.file_size:
            chunk = self._read_at(info.data_offset + done, min(CHUNK, info.file_size - done))
            crc = zlib.crc32(chunk, crc)
            done += len(chunk)
            if done == info.file_size and crc != info.crc:
                raise _refuse(f"entry {name!r} does not match its CRC-32")
            yield chunk
        if info.file_size == 0 and info.crc != 0:
            raise _refuse(f"entry {name!r} does not match its CRC-32")

    def sha256(self, name: str, size: int) -> str:
        h = hashlib.sha256()
        for chunk in self.iter_chunks(name, size):
            h.update(chunk)
        return h.hexdigest()
