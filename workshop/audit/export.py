"""JSON-lines export (header with certificate, records, final signed checkpoint) and its check."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from workshop.audit.errors import AuditError
from workshop.audit.records import Checkpoint, Record, canonical_json
from workshop.audit.store import AuditLog
from workshop.audit.verification import ChainVerifier, Problem, VerifyResult, verify_chain
from workshop.foundation.paths import atomic_write

EXPORT_FORMAT = "workshop-audit-export/1"


def export_log(log: AuditLog, certificate: x509.Certificate, out: Path) -> int:
    """Write the log as JSON lines; returns the number of records written."""
    records, checkpoint = log.snapshot()
    if checkpoint is None:
        raise AuditError("audit log has no signed checkpoint; cannot export",
                         hint="run `workshop audit verify` to see what is wrong")
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    lines = [canonical_json({"type": "header", "format": EXPORT_FORMAT, "certificate": pem})]
    lines += [canonical_json({"type": "record", **r.to_json()}) for r in records]
    lines.append(canonical_json({"type": "checkpoint", **checkpoint.to_json()}))
    atomic_write(Path(out), ("\n".join(lines) + "\n").encode())
    return len(records)


def verify_export(path: Path, *, certificate: x509.Certificate | None = None,
                  verify_chain_fn: ChainVerifier | None = None) -> VerifyResult:
    """Verify an export. `certificate`, when given, must equal the embedded one (pinning);
    `verify_chain_fn` checks the embedded certificate against the trust store."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"cannot read audit export {path}: {exc}") from exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    try:
        header = json.loads(lines[0]) if lines else None
        if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
            raise ValueError("missing header")
        embedded = x509.load_pem_x509_certificate(header["certificate"].encode())
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditError(f"{path} is not a workshop audit export: {exc}",
                         hint="produce it with `workshop audit export --out FILE`") from exc
    problems: list[Problem] = []
    if certificate is not None and embedded != certificate:
        problems.append(Problem(0, "export was signed by a different workstation certificate"))
    records: list[Record] = []
    checkpoint: Checkpoint | None = None
    for number, line in enumerate(lines[1:], start=2):
        seq_hint = records[-1].seq + 1 if records and isinstance(records[-1].seq, int) else 1
        try:
            obj = json.loads(line)
            kind = obj.get("type")
            if checkpoint is not None:
                problems.append(Problem(seq_hint, f"line {number}: data after the checkpoint"))
            elif kind == "record":
                records.append(Record.from_json(obj))
            elif kind == "checkpoint":
                checkpoint = Checkpoint.from_json(obj)
            else:
                problems.append(Problem(seq_hint, f"line {number}: unknown line type {kind!r}"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(Problem(seq_hint, f"line {number}: unreadable ({exc})"))
    result = verify_chain(records, checkpoint, embedded, verify_chain_fn)
    result.problems[:0] = problems
    return result
