"""Build and tamper with real signed packages for tests."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from workshop.packages.build import _Payload, build_manifest, write_package
from workshop.packages.container import canonical_order, write_container
from workshop.trust.demo import Signer
from workshop.trust.keys import sign

SPEC = """
[package]
id = "test-pkg"
version = "1.1.0"
release_notes = "test"
vehicle_models = ["demo-car"]
{expires}

[[ecu]]
name = "ENGINE"
address = 0x7E0
hardware_part_numbers = ["HW1"]
from_versions = ["1.0.0"]
new_version = "{version}"
security_version = 2

[[ecu.region]]
address = 0x1000
generate_size = {size}
"""


def write_spec(folder: Path, version: str = "1.1.0", size: int = 5000,
               expires: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"spec-{version}.toml"
    path.write_text(SPEC.format(version=version, size=size, expires=expires))
    return path


def entries(pkg: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(pkg) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def rewrite(pkg: Path, out: Path, items: list[tuple[str, bytes]]) -> Path:
    """A canonical container of `items` (in canonical order), so that a test reaches the
    check after the container check."""
    order = canonical_order(n for n, _ in items)
    ranked = sorted(items, key=lambda item: order.index(item[0]))
    with open(out, "wb") as fh:
        write_container(fh, ranked)
    return out


def resign(pkg: Path, out: Path, signer: Signer, edit: object) -> Path:
    """Rewrite the manifest with `edit(dict)` and sign it properly."""
    items = dict(entries(pkg))
    doc = json.loads(items["manifest.json"])
    edit(doc)  # type: ignore[operator]
    data = json.dumps(doc).encode()
    payloads = [_Payload(n, d) for n, d in items.items() if n.startswith("payloads/")]
    write_package(out, data, sign(signer.key, data), signer.chain_pem(), payloads)
    return out


__all__ = ["build_manifest", "entries", "resign", "rewrite", "write_spec"]
