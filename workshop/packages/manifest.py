"""manifest.json: versioned schema (schema 1), parsed into typed, validated dataclasses."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from workshop.foundation.names import UnsafeNameError, safe_name
from workshop.packages.errors import ManifestError, SchemaVersionError

SCHEMA_VERSION = 1
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
# ISO 14229-1 addressAndLengthFormatIdentifier: high nibble = bytes of memorySize, low nibble
# = bytes of memoryAddress. 0x44 (32-bit) unless the ECU says otherwise.
DEFAULT_ADDRESS_FORMAT = 0x44
PAYLOAD_DIR = "payloads"


@dataclass(frozen=True)
class PayloadRef:
    file: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Delta:
    payload: PayloadRef  # bsdiff4 patch
    base_sha256: str  # full base image, looked up in the local image store
    base_version: str


@dataclass(frozen=True)
class Region:
    address: int
    length: int
    erase_address: int
    erase_length: int
    image_sha256: str  # of the full image written to this region
    crc32: int
    payload: PayloadRef | None  # full image, or None when only a delta ships
    delta: Delta | None = None
    # Set when the OEM ships the payload already compressed or encrypted: sent as it is with
    # this dataFormatIdentifier (the tool never decodes it); image_sha256, crc32 and length
    # then describe the plain image the ECU writes, as the OEM declares them.
    data_format: int | None = None
    # The OEM's signature over this region's image, for a check routine that verifies it in
    # the ECU (hex; the tool only passes it on).
    signature: str | None = None


@dataclass(frozen=True)
class EcuUpdate:
    name: str
    address: int
    hardware_part_numbers: list[str]
    from_versions: list[str]
    new_version: str
    security_version: int
    check_memory: str
    regions: list[Region]
    depends_on: list[str] = field(default_factory=list)
    address_and_length_format: int = DEFAULT_ADDRESS_FORMAT


@dataclass(frozen=True)
class Manifest:
    schema: int
    id: str
    version: str
    release_notes: str
    vehicle_models: list[str]
    created: str
    expires: str | None
    order: list[str]
    ecus: list[EcuUpdate]

    def payloads(self) -> list[PayloadRef]:
        refs: list[PayloadRef] = []
        for ecu in self.ecus:
            for r in ecu.regions:
                if r.payload:
                    refs.append(r.payload)
                if r.delta:
                    refs.append(r.delta.payload)
        return refs

    def expires_at(self) -> dt.datetime | None:
        return _utc(dt.datetime.fromisoformat(self.expires)) if self.expires else None

    def created_at(self) -> dt.datetime:
        return _utc(dt.datetime.fromisoformat(self.created))

    def ecu(self, name: str) -> EcuUpdate:
        for e in self.ecus:
            if e.name == name:
                return e
        raise ManifestError(f"package has no ECU {name!r}", hint="see 'workshop package inspect'")

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()


def _utc(value: dt.datetime) -> dt.datetime:
    """Dates without a zone are UTC (as the builder writes them)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _name(kind: str, value: str) -> str:
    try:
        return safe_name(kind, value)
    except UnsafeNameError as exc:
        raise ManifestError(f"manifest check failed: {exc.message}", hint=exc.hint) from exc


def _get(d: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise ManifestError(f"manifest check failed: {where}.{key} is missing",
                            hint="the package was not built by a compatible tool")
    value = d[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"manifest check failed: {where}.{key} has the wrong type",
                            hint="the package was not built by a compatible tool")
    return value


def _strs(d: Any, key: str, where: str) -> list[str]:
    items = _get(d, key, list, where)
    if not all(isinstance(i, str) for i in items):
        raise ManifestError(f"manifest check failed: {where}.{key} must list strings")
    return list(items)


def _hex64(value: str, where: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ManifestError(f"manifest check failed: {where} is not a SHA-256 hex digest")
    return value


def _payload(d: Any, where: str) -> PayloadRef:
    size = _get(d, "size", int, where)
    if size < 0:
        raise ManifestError(f"manifest check failed: {where}.size is negative")
    return PayloadRef(_get(d, "file", str, where),
                      _hex64(_get(d, "sha256", str, where), f"{where}.sha256"), size)


def _signature(value: Any, where: str) -> str | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and value and bytes.fromhex(value):
            return value.lower()
    except ValueError:
        pass
    raise ManifestError(f"manifest check failed: {where}.signature must be hex digits")


def _data_format(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= 0xFF:
        raise ManifestError(f"manifest check failed: {where}.data_format must be 0..255")
    return value


def _region(d: Any, where: str) -> Region:
    p = d.get("payload") if isinstance(d, dict) else None
    dd = d.get("delta") if isinstance(d, dict) else None
    delta = None
    if dd is not None:
        delta = Delta(_payload(_get(dd, "payload", dict, where), f"{where}.delta.payload"),
                      _hex64(_get(dd, "base_sha256", str, where), f"{where}.delta.base_sha256"),
                      _get(dd, "base_version", str, f"{where}.delta"))
    region = Region(_get(d, "address", int, where), _get(d, "length", int, where),
                    _get(d, "erase_address", int, where), _get(d, "erase_length", int, where),
                    _hex64(_get(d, "image_sha256", str, where), f"{where}.image_sha256"),
                    _get(d, "crc32", int, where),
                    _payload(p, f"{where}.payload") if p is not None else None, delta,
                    _data_format(d.get("data_format"), where),
                    _signature(d.get("signature"), where))
    if region.payload is None and region.delta is None:
        raise ManifestError(f"manifest check failed: {where} has neither payload nor delta")
    if min(region.address, region.length, region.erase_address, region.erase_length) < 0:
        raise ManifestError(f"manifest check failed: {where} has a negative address or length")
    if region.data_format is not None and (region.payload is None or delta is not None):
        raise ManifestError(f"manifest check failed: {where} declares a data_format but "
                            "ships no encoded payload")
    if region.payload is not None and region.data_format is None \
            and region.payload.size != region.length:
        raise ManifestError(f"manifest check failed: {where} payload size differs from the "
                            "region length")
    if not (region.erase_address <= region.address and region.address + region.length
            <= region.erase_address + region.erase_length):
        raise ManifestError(f"manifest check failed: {where} lies outside its erase region")
    return region


def _ecu(d: Any, where: str) -> EcuUpdate:
    name = _name(f"{where}.name", _get(d, "name", str, where))
    where = f"ecus[{name}]"
    regions = [_region(r, f"{where}.regions[{i}]")
               for i, r in enumerate(_get(d, "regions", list, where))]
    address_format = d.get("address_and_length_format", DEFAULT_ADDRESS_FORMAT)
    if type(address_format) is not int:
        raise ManifestError(f"manifest check failed: {where}.address_and_length_format has "
                            "the wrong type")
    ecu = EcuUpdate(name, _get(d, "address", int, where),
                    _strs(d, "hardware_part_numbers", where), _strs(d, "from_versions", where),
                    _get(d, "new_version", str, where), _get(d, "security_version", int, where),
                    _get(d, "check_memory", str, where), regions,
                    _strs(d, "depends_on", where), address_format)
    check_regions(ecu)
    return ecu


def _span(start: int, length: int) -> str:
    return f"0x{start:X}..0x{start + length:X}"


def check_regions(ecu: EcuUpdate) -> None:
    """Regions of one ECU: addressable with its address format, not overlapping, and each
    payload file inside the ECU's own payload folder."""
    where = f"ecus[{ecu.name}]"
    fmt = ecu.address_and_length_format
    size_bytes, address_bytes = fmt >> 4, fmt & 0xF
    if not (1 <= size_bytes <= 8 and 1 <= address_bytes <= 8):
        raise ManifestError(f"manifest check failed: {where}.address_and_length_format "
                            f"0x{fmt:02X} is not a valid addressAndLengthFormatIdentifier",
                            hint="each nibble gives a byte count, 1 to 8 (e.g. 0x44)")
    limit, max_length = 1 << (8 * address_bytes), (1 << (8 * size_bytes)) - 1
    for i, r in enumerate(ecu.regions):
        for start, length, what in ((r.address, r.length, "region"),
                                    (r.erase_address, r.erase_length, "erase region")):
            if start + length > limit or length > max_length:
                raise ManifestError(
                    f"manifest check failed: {where}.regions[{i}] {what} "
                    f"{_span(start, length)} does not fit {address_bytes}-byte addresses and "
                    f"{size_bytes}-byte lengths (format 0x{fmt:02X})",
                    hint="the package does not fit this ECU's address size")
        for ref in (r.payload, r.delta.payload if r.delta else None):
            if ref is not None:
                _payload_name(ref.file, ecu.name, f"{where}.regions[{i}]")
    ordered = sorted(enumerate(ecu.regions), key=lambda item: item[1].address)
    for (i, a), (j, b) in itertools.pairwise(ordered):
        if b.address < a.address + a.length:
            raise ManifestError(f"manifest check failed: {where}.regions[{i}] "
                                f"{_span(a.address, a.length)} overlaps regions[{j}] "
                                f"{_span(b.address, b.length)}",
                                hint="the package is malformed; do not flash it")


def _payload_name(file: str, ecu: str, where: str) -> None:
    parts = file.split("/")
    if len(parts) != 3 or parts[0] != PAYLOAD_DIR or parts[1] != ecu:
        raise ManifestError(f"manifest check failed: {where} payload {file!r} is not in "
                            f"{PAYLOAD_DIR}/{ecu}/", hint="the package is malformed")
    _name(f"{where} payload file", parts[2])


def parse_manifest(data: bytes) -> Manifest:
    """Parse and validate manifest bytes; raise ManifestError naming the failed field."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ManifestError("manifest check failed: manifest.json is not valid JSON",
                            hint="the package is corrupt; obtain a new copy") from exc
    schema = _get(doc, "schema", int, "manifest")
    if schema != SCHEMA_VERSION:
        raise SchemaVersionError(f"schema check failed: manifest schema {schema} is not "
                                 f"supported (this tool reads schema {SCHEMA_VERSION})",
                                 hint="update workshop to a version that reads this package")
    expires = doc.get("expires")
    if expires is not None and not isinstance(expires, str):
        raise ManifestError("manifest check failed: manifest.expires has the wrong type")
    manifest = Manifest(schema, _name("manifest.id", _get(doc, "id", str, "manifest")),
                        _get(doc, "version", str, "manifest"),
                        _get(doc, "release_notes", str, "manifest"),
                        _strs(doc, "vehicle_models", "manifest"),
                        _get(doc, "created", str, "manifest"), expires,
                        _strs(doc, "order", "manifest"),
                        [_ecu(e, "manifest.ecus") for e in _get(doc, "ecus", list, "manifest")])
    check_dates(manifest)
    check_order(manifest)
    return manifest


def check_dates(m: Manifest) -> None:
    """`created` and `expires` are ISO 8601 dates and the package expires after it was made."""
    try:
        created = m.created_at()
    except ValueError as exc:
        raise ManifestError("manifest check failed: manifest.created is not an ISO date") from exc
    try:
        expires = m.expires_at()
    except ValueError as exc:
        raise ManifestError("manifest check failed: manifest.expires is not an ISO date") from exc
    if expires is not None and created > expires:
        raise ManifestError(f"manifest check failed: created {m.created} is after expires "
                            f"{m.expires}", hint="the package is malformed; obtain a new copy")


def check_order(m: Manifest) -> None:
    """Every ECU appears once in `order`; each dependency is flashed before its dependant."""
    names = [e.name for e in m.ecus]
    if sorted(names) != sorted(m.order) or len(set(names)) != len(names):
        raise ManifestError("ordering check failed: 'order' must list each ECU exactly once",
                            hint="fix [package].order in the build spec")
    position = {n: i for i, n in enumerate(m.order)}
    for e in m.ecus:
        for dep in e.depends_on:
            if dep not in position:
                raise ManifestError(f"dependency check failed: {e.name} depends on {dep}, "
                                    "which is not in the package")
            if position[dep] >= position[e.name]:
                raise ManifestError(f"dependency check failed: {e.name} depends on {dep}, "
                                    "which is ordered after it")
