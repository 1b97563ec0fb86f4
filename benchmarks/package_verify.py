"""Package verification throughput and peak memory.

Run: python benchmarks/package_verify.py
- throughput of verify_package on a 64 MB package vs plain hashlib SHA-256 over the same
  bytes (ratio, target >= 0.8);
- peak Python heap (tracemalloc) of verification for 16 MB vs 64 MB packages (should be flat:
  payloads are hashed in 1 MiB chunks straight from the zip).
Payloads are STORED (no compression): firmware compresses poorly and inflate would cap
verification speed well below hashing speed. Image-store filling is disabled here
(store_images=False) so the figure measures verification, not the copy into the store.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workshop.packages.build import build_package
from workshop.packages.verify import verify_package
from workshop.trust.demo import DEMO_PASSPHRASE, Signer, demo_init
from workshop.trust.store import TrustStore

SPEC = """[package]
id = "bench"
version = "1"
[[ecu]]
name = "ENGINE"
address = 0x7E0
hardware_part_numbers = []
from_versions = []
new_version = "1"
security_version = 1
[[ecu.region]]
address = 0
file = "{file}"
load_address = 0
"""


def make_package(folder: Path, signer: Signer, size: int) -> Path:
    image = folder / f"img{size}.bin"
    image.write_bytes(os.urandom(size))
    spec = folder / f"spec{size}.toml"
    spec.write_text(SPEC.format(file=image))
    out = folder / f"pkg{size}.zip"
    build_package(spec, out, signer)
    return out


def plain_hash(path: Path) -> float:
    start = time.perf_counter()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return time.perf_counter() - start


def verify_time(path: Path, store: TrustStore) -> float:
    start = time.perf_counter()
    report = verify_package(path, store, store_images=False)
    elapsed = time.perf_counter() - start
    assert report.ok, report.checks
    return elapsed


def peak_memory(path: Path, store: TrustStore) -> int:
    tracemalloc.start()
    verify_package(path, store, store_images=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["WORKSHOP_HOME"] = str(folder / "home")
        pki = demo_init(folder / "pki", DEMO_PASSPHRASE)
        signer = Signer.load(pki.signer_key, pki.signer_chain, DEMO_PASSPHRASE)
        store = TrustStore.load(pki.trust_dir)
        mb = 1024 * 1024
        big = make_package(folder, signer, 64 * mb)
        small = make_package(folder, signer, 16 * mb)
        t_hash = min(plain_hash(big) for _ in range(3))
        t_verify = min(verify_time(big, store) for _ in range(3))
        size = big.stat().st_size / mb
        print(f"64 MB package: plain SHA-256 {size / t_hash:7.1f} MB/s, "
              f"verify {size / t_verify:7.1f} MB/s, ratio {t_hash / t_verify:.2f} (target >= 0.8)")
        for label, path in (("16 MB", small), ("64 MB", big)):
            print(f"peak traced memory verifying {label}: {peak_memory(path, store) / mb:.2f} MiB")


if __name__ == "__main__":
    main()
