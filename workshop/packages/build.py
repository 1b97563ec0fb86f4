"""Build a signed package from a TOML build spec (see resources/packages/*.toml)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bsdiff4

from workshop.foundation.names import safe_name
from workshop.packages.container import (
    CHAIN,
    MANIFEST,
    SIGNATURE,
    Container,
    canonical_order,
    write_container,
)
from workshop.packages.descriptor import embed_descriptor, make_descriptor
from workshop.packages.errors import BuildSpecError, PackageError
from workshop.packages.firmware import generate_image, load_firmware
from workshop.packages.manifest import (
    DEFAULT_ADDRESS_FORMAT,
    SCHEMA_VERSION,
    Delta,
    EcuUpdate,
    Manifest,
    PayloadRef,
    Region,
    check_dates,
    check_order,
    check_regions,
    parse_manifest,
)
from workshop.trust.demo import Signer
from workshop.trust.keys import sign

ERASE_BLOCK = 0x1000


@dataclass
class _Payload:
    file: str
    data: bytes

    def ref(self) -> PayloadRef:
        return PayloadRef(self.file, hashlib.sha256(self.data).hexdigest(), len(self.data))


def _spec_get(d: dict[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    if key not in d:
        if default is not None:
            return default
        raise BuildSpecError(f"build spec check failed: {where}.{key} is missing")
    if not isinstance(d[key], kind):
        raise BuildSpecError(f"build spec check failed: {where}.{key} has the wrong type")
    return d[key]


MAX_ADDRESS = 1 << 32  # addresses and load addresses: 32-bit memory
MAX_GENERATED = 64 * 1024 * 1024  # generate_size: a sample image, not a real one


def _spec_int(r: dict[str, Any], key: str, where: str, low: int, high: int) -> int:
    """An integer key of a spec region within [low, high), said in words when it is not."""
    value = _spec_get(r, key, int, where)
    if isinstance(value, bool) or not low <= value < high:
        raise BuildSpecError(f"build spec check failed: {where}.{key} = {value} is outside "
                             f"0x{low:X}..0x{high - 1:X}")
    return int(value)


def _region_images(r: dict[str, Any], spec_dir: Path, ecu: str, version: str,
                   security_version: int) -> list[tuple[int, bytes]]:
    where = f"ecu[{ecu}].region"
    if r.get("descriptor") is True:
        address = _spec_int(r, "address", where, 0, MAX_ADDRESS)
        return [(address, make_descriptor(version, security_version))]
    if "file" in r:
        name = _spec_get(r, "file", str, where)
        fmt = r.get("format")
        if fmt is not None and not isinstance(fmt, str):
            raise BuildSpecError(f"build spec check failed: {where}.format has the "
                                 "wrong type", hint='e.g. format = "bin"')
        load_address = (_spec_int(r, "load_address", where, 0, MAX_ADDRESS)
                        if "load_address" in r else None)
        regions = load_firmware(spec_dir / name, load_address, fmt)
        return [(x.address, x.data) for x in regions]
    if "generate_size" in r:
        address = _spec_int(r, "address", where, 0, MAX_ADDRESS)
        size = _spec_int(r, "generate_size", where, 1, MAX_GENERATED + 1)
        image = generate_image(f"{ecu}:{version}:{address}", size)
        return [(address, embed_descriptor(image, version, security_version))]
    raise BuildSpecError(f"build spec check failed: ecu[{ecu}].region needs 'file', "
                         "'generate_size' or 'descriptor = true'")


def _old_images(old: Path | None) -> dict[tuple[str, int], tuple[bytes, str]]:
    """Full region images of a previous package (delta bases), keyed by (ECU, address)."""
    if old is None:
        return {}
    out: dict[tuple[str, int], tuple[bytes, str]] = {}
    with Container(old) as c:
        m = parse_manifest(c.read_small(MANIFEST, 4 * 1024 * 1024))
        for e in m.ecus:
            for reg in e.regions:
                if reg.payload is not None:
                    data = b"".join(c.iter_chunks(reg.payload.file, reg.payload.size))
                    out[(e.name, reg.address)] = (data, e.new_version)
    return out


def _signature(r: dict[str, Any], ecu: str, spec_dir: Path) -> str | None:
    """The OEM's signature over the region's image (signature_file: raw bytes), passed on to
    an ECU whose check routine verifies it."""
    if "signature_file" not in r:
        return None
    where = f"ecu[{ecu}].region"
    try:
        return (spec_dir / _spec_get(r, "signature_file", str, where)).read_bytes().hex()
    except OSError as exc:
        raise BuildSpecError(f"build spec check failed: {where}.signature_file: "
                             f"{exc.strerror}") from exc


def _encoded_region(r: dict[str, Any], spec_dir: Path, ecu: str, index: int
                    ) -> tuple[Region, _Payload]:
    """A region whose payload the OEM ships compressed or encrypted: kept byte for byte,
    with the plain image's length, SHA-256 and CRC-32 as the spec declares them."""
    where = f"ecu[{ecu}].region"
    try:
        data = (spec_dir / _spec_get(r, "encoded_file", str, where)).read_bytes()
    except OSError as exc:
        raise BuildSpecError(f"build spec check failed: {where}.encoded_file: "
                             f"{exc.strerror}") from exc
    address = _spec_get(r, "address", int, where)
    length = _spec_get(r, "image_length", int, where)
    payload = _Payload(f"payloads/{ecu}/region{index}.oem", data)
    return Region(address, length, int(r.get("erase_address", address)),
                  int(r.get("erase_length", -(-length // ERASE_BLOCK) * ERASE_BLOCK)),
                  _spec_get(r, "image_sha256", str, where).lower(),
                  _spec_get(r, "image_crc32", int, where), payload.ref(), None,
                  _spec_get(r, "data_format", int, where), _signature(r, ecu, spec_dir)), payload


def build_manifest(spec_path: Path, delta_from: Path | None = None,
                   now: dt.datetime | None = None) -> tuple[Manifest, list[_Payload]]:
    try:
        spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildSpecError(f"cannot read build spec {spec_path}: {exc}") from exc
    pkg = _spec_get(spec, "package", dict, "spec")
    bases = _old_images(delta_from)
    payloads: list[_Payload] = []
    ecus: list[EcuUpdate] = []
    for i, e in enumerate(_spec_get(spec, "ecu", list, "spec")):
        name = safe_name(f"ecu[{i}].name", _spec_get(e, "name", str, "ecu"))
        version = _spec_get(e, "new_version", str, f"ecu[{name}]")
        security = _spec_get(e, "security_version", int, f"ecu[{name}]")
        regions: list[Region] = []
        for r in _spec_get(e, "region", list, f"ecu[{name}]"):
            if "encoded_file" in r:
                encoded = _encoded_region(r, spec_path.parent, name, len(regions))
                payloads.append(encoded[1])
                regions.append(encoded[0])
                continue
            for address, image in _region_images(r, spec_path.parent, name, version, security):
                index = len(regions)
                erase_len = int(r.get("erase_length", -(-len(image) // ERASE_BLOCK) * ERASE_BLOCK))
                digest = hashlib.sha256(image).hexdigest()
                full = _Payload(f"payloads/{name}/region{index}.bin", image)
                delta = None
                payload_ref: PayloadRef | None = full.ref()
                base = bases.get((name, address))
                if base is not None:
                    patch = _Payload(f"payloads/{name}/region{index}.bsdiff",
                                     bsdiff4.diff(base[0], image))
                    delta = Delta(patch.ref(), hashlib.sha256(base[0]).hexdigest(), base[1])
                    payloads.append(patch)
                    payload_ref = None
                else:
                    payloads.append(full)
                regions.append(Region(address, len(image), int(r.get("erase_address", address)),
                                      erase_len, digest, zlib.crc32(image), payload_ref, delta,
                                      signature=_signature(r, name, spec_path.parent)))
        ecus.append(EcuUpdate(name, _spec_get(e, "address", int, f"ecu[{name}]"),
                              list(_spec_get(e, "hardware_part_numbers", list, f"ecu[{name}]")),
                              list(_spec_get(e, "from_versions", list, f"ecu[{name}]")),
                              version, _spec_get(e, "security_version", int, f"ecu[{name}]"),
                              str(e.get("check_memory", "crc32")), regions,
                              list(e.get("depends_on", [])),
                              _spec_get(e, "address_and_length_format", int, f"ecu[{name}]",
                                        DEFAULT_ADDRESS_FORMAT)))
    created = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    for key in ("vehicle_models", "order"):  # list("demo-car") would be 8 one-letter models
        value = pkg.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise BuildSpecError(f"build spec check failed: package.{key} must be a list of "
                                 "names", hint=f'e.g. {key} = ["demo-car"]' if key ==
                                 "vehicle_models" else 'e.g. order = ["GATEWAY", "ENGINE"]')
    expires = pkg.get("expires")
    if isinstance(expires, dt.datetime | dt.date):
        expires = expires.isoformat()
    manifest = Manifest(SCHEMA_VERSION,
                        safe_name("package.id", _spec_get(pkg, "id", str, "package")),
                        _spec_get(pkg, "version", str, "package"),
                        str(pkg.get("release_notes", "")), list(pkg.get("vehicle_models", [])),
                        created.isoformat(), expires,
                        list(pkg.get("order", [x.name for x in ecus])), ecus)
    try:
        for ecu in manifest.ecus:
            check_regions(ecu)
        check_dates(manifest)
        check_order(manifest)
    except PackageError as exc:
        raise BuildSpecError(exc.message, hint=exc.hint) from exc
    return manifest, payloads


def write_package(out: Path, manifest_bytes: bytes, signature: bytes, chain_pem: bytes,
                  payloads: list[_Payload]) -> None:
    """Write the canonical container (see container.py) atomically: STORED, so payloads are
    hashed at disk speed, and the same content always gives the same file bytes."""
    items = {MANIFEST: manifest_bytes, SIGNATURE: signature, CHAIN: chain_pem}
    for p in payloads:
        if p.file in items:
            raise BuildSpecError(f"build spec check failed: two payloads are named {p.file}")
        items[p.file] = p.data
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            write_container(fh, [(name, items[name]) for name in canonical_order(items)])
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def build_package(spec_path: Path, out: Path, signer: Signer, *,
                  delta_from: Path | None = None, now: dt.datetime | None = None) -> Manifest:
    manifest, payloads = build_manifest(spec_path, delta_from, now)
    data = manifest.to_json()
    write_package(out, data, sign(signer.key, data), signer.chain_pem(), payloads)
    return manifest
