"""JSON-lines export (header with the signer certificates, records, signed checkpoint, signed
head) and its check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from workshop.audit.errors import AuditError
from workshop.audit.head import HEAD_FORMAT
from workshop.audit.records import Checkpoint, Record, canonical_json
from workshop.audit.signing import chain_pem
from workshop.audit.store import AuditLog
from workshop.audit.verification import (
    ChainVerifier,
    HeadInput,
    Problem,
    VerifyResult,
    verify_chain,
)
from workshop.foundation.paths import atomic_write

EXPORT_FORMAT = "workshop-audit-export/2"


def export_log(log: AuditLog, out: Path) -> int:
    """Write the log as JSON lines; returns the number of records written."""
    snap = log.snapshot()
    if snap.checkpoint is None or snap.log_id is None:
        raise AuditError("audit log has no signed checkpoint; cannot export",
                         hint="run `workshop audit verify` to see what is wrong")
    certificates = {fp: chain_pem(chain) for fp, chain in snap.certificates.items()}
    lines = [canonical_json({"type": "header", "format": EXPORT_FORMAT, "log": snap.log_id,
                             "certificates": certificates})]
    lines += [canonical_json({"type": "record", **r.to_json()}) for r in snap.records]
    lines.append(canonical_json({"type": "checkpoint", **snap.checkpoint.to_json()}))
    if snap.head.head is not None:  # a missing head is exported as missing: verify says so
        lines.append(canonical_json({"type": "head", "format": HEAD_FORMAT,
                                     **snap.head.head.to_json()}))
    atomic_write(Path(out), ("\n".join(lines) + "\n").encode())
    return len(snap.records)


def _header(lines: list[str], path: Path) -> tuple[str, dict[str, list[x509.Certificate]]]:
    try:
        header = json.loads(lines[0]) if lines else None
        if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
            raise ValueError("missing header")
        certificates = {str(fp): x509.load_pem_x509_certificates(pem.encode())
                        for fp, pem in header["certificates"].items()}
        return str(header["log"]), certificates
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditError(f"{path} is not a workshop audit export: {exc}",
                         hint="produce it with `workshop audit export --out FILE`") from exc


def verify_export(path: Path, *, pinned: Sequence[x509.Certificate] | None = None,
                  verify_chain_fn: ChainVerifier | None = None) -> VerifyResult:
    """Verify an export. `pinned`, when given, are the only certificates allowed to have
    signed it; `verify_chain_fn` checks each signer against the trust store."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"cannot read audit export {path}: {exc}") from exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    log_id, certificates = _header(lines, path)
    problems: list[Problem] = []
    records: list[Record] = []
    checkpoint: Checkpoint | None = None
    head: Checkpoint | None = None
    for number, line in enumerate(lines[1:], start=2):
        seq_hint = records[-1].seq + 1 if records and isinstance(records[-1].seq, int) else 1
        try:
            obj = json.loads(line)
            kind = obj.get("type")
            if head is not None or (checkpoint is not None and kind != "head"):
                problems.append(Problem(seq_hint, f"line {number}: data after the checkpoint"))
            elif kind == "record":
                records.append(Record.from_json(obj))
            elif kind == "checkpoint":
                checkpoint = Checkpoint.from_json(obj)
            elif kind == "head":
                head = Checkpoint.from_json(obj)
            else:
                problems.append(Problem(seq_hint, f"line {number}: unknown line type {kind!r}"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(Problem(seq_hint, f"line {number}: unreadable ({exc})"))
    result = verify_chain(records, checkpoint, certificates, verify_chain_fn, log_id=log_id,
                          head=HeadInput(head, "not in the export"), pinned=pinned)
    result.problems[:0] = problems
    return result
