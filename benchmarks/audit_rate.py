"""Audit log throughput: durable appends/s (WAL, synchronous=FULL) and verify records/s.

Run: python benchmarks/audit_rate.py [--count N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from workshop.audit import AuditLog, AuditSigner, export_log, verify_export


def signer(kind: str) -> AuditSigner:
    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ecdsa" else \
        ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + timedelta(days=1))
            .sign(key, None if kind == "ed25519" else hashes.SHA256()))
    return AuditSigner(key, cert)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    n = parser.parse_args().count
    for kind in ("ecdsa", "ed25519"):
        s = signer(kind)
        with tempfile.TemporaryDirectory() as tmp:
            log = AuditLog.open(Path(tmp) / "a.db", s)
            t0 = time.perf_counter()
            for i in range(n):
                log.append("bench", vin="WVWZZZ1JZXW000001", ecu="ECM", technician="bench",
                           details={"i": i, "did": "F190"})
            t1 = time.perf_counter()
            assert log.verify().records == n
            t2 = time.perf_counter()
            export_log(log, Path(tmp) / "e.jsonl")
            t3 = time.perf_counter()
            assert verify_export(Path(tmp) / "e.jsonl").ok
            t4 = time.perf_counter()
            log.close()
        print(f"{kind:8} {n} records: append {n / (t1 - t0):8.0f} rec/s (durable commits), "
              f"verify db {n / (t2 - t1):8.0f} rec/s, verify export {n / (t4 - t3):8.0f} rec/s")


if __name__ == "__main__":
    main()
