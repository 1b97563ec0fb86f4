"""Chain verification shared by the local log and exports: finds which seq is wrong and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography import x509

from workshop.audit.errors import AuditTamperedError
from workshop.audit.records import GENESIS_HASH, Checkpoint, Record, record_signed_bytes
from workshop.audit.signing import PublicKey, certificate_key, signature_valid, workstation_id

ChainVerifier = Callable[[x509.Certificate], None]
"""Raises when the certificate does not chain to a trusted root (wired to the trust store)."""


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str


@dataclass
class VerifyResult:
    """Outcome of a verification; `ok` only when there are no problems."""

    records: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    checkpoint_seq: int | None = None
    chain_checked: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_failed(self) -> None:
        if self.problems:
            first = self.problems[0]
            raise AuditTamperedError(first.seq, first.reason)

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "records": self.records, "last_seq": self.last_seq,
                "checkpoint_seq": self.checkpoint_seq, "chain_checked": self.chain_checked,
                "problems": [{"seq": p.seq, "reason": p.reason} for p in self.problems]}


def _shape_problem(rec: Record) -> str | None:
    for name in ("time", "workstation", "technician", "action", "prev_hash", "hash"):
        if not isinstance(getattr(rec, name), str):
            return f"malformed field {name!r}"
    for name in ("vin", "ecu"):
        if getattr(rec, name) is not None and not isinstance(getattr(rec, name), str):
            return f"malformed field {name!r}"
    if not isinstance(rec.details, dict):
        return "malformed field 'details'"
    return None


def verify_chain(records: Iterable[Record], checkpoint: Checkpoint | None,
                 certificate: x509.Certificate,
                 verify_chain: ChainVerifier | None = None) -> VerifyResult:
    """Check records (in stored order) and the signed checkpoint against `certificate`.

    Each problem names the seq that is wrong. After a problem the walk continues from the
    stored values so one altered record yields one problem, not a cascade.
    """
    result = VerifyResult()
    if verify_chain is not None:
        try:
            verify_chain(certificate)
        except Exception as exc:
            result.problems.append(Problem(0, f"workstation certificate is not trusted: {exc}"))
        result.chain_checked = True
    key = certificate_key(certificate)
    station = workstation_id(certificate)
    expected_seq, prev_hash = 1, GENESIS_HASH
    hashes: dict[int, str] = {}
    for rec in records:
        result.records += 1
        reason = None
        if not isinstance(rec.seq, int) or isinstance(rec.seq, bool):
            result.problems.append(Problem(expected_seq, "record with malformed seq"))
            continue
        if rec.seq < expected_seq:
            reason = f"out of order or duplicate (expected seq {expected_seq})"
        elif rec.seq > expected_seq:
            missing = (f"seq {expected_seq}" if rec.seq == expected_seq + 1
                       else f"seqs {expected_seq}..{rec.seq - 1}")
            result.problems.append(Problem(expected_seq, f"record missing (deleted): {missing}"))
        if reason is None:
            reason = _shape_problem(rec)
        if reason is None and rec.computed_hash() != rec.hash:
            reason = "content does not match its hash (record modified or reordered)"
        if reason is None and rec.prev_hash != prev_hash:
            reason = "previous-hash link broken (record inserted, deleted or reordered before it)"
        if reason is None and not signature_valid(key, rec.signature,
                                                  record_signed_bytes(rec.hash)):
            reason = "signature does not verify with the workstation certificate (forged record)"
        if reason is None and rec.workstation != station:
            reason = f"workstation {rec.workstation!r} differs from certificate {station!r}"
        if reason is not None:
            result.problems.append(Problem(rec.seq, reason))
        expected_seq = max(expected_seq, rec.seq + 1)
        prev_hash = rec.hash if isinstance(rec.hash, str) else ""
        hashes[rec.seq] = prev_hash
        result.last_seq, result.last_hash = rec.seq, prev_hash
    _check_checkpoint(result, checkpoint, key, hashes)
    return result


def _check_checkpoint(result: VerifyResult, checkpoint: Checkpoint | None, key: PublicKey,
                      hashes: dict[int, str]) -> None:
    last = result.last_seq
    if checkpoint is None:
        result.problems.append(Problem(last + 1, "signed checkpoint missing (tail unprotected)"))
        return
    result.checkpoint_seq = checkpoint.seq
    if not signature_valid(key, checkpoint.signature, checkpoint.signed_bytes()):
        result.problems.append(Problem(checkpoint.seq, "checkpoint signature invalid"))
        return
    if checkpoint.seq > last:
        result.problems.append(Problem(
            last + 1, f"record missing: signed checkpoint ends at seq {checkpoint.seq} but the "
                      f"last record is seq {last} (truncated tail)"))
    elif checkpoint.seq < last:
        result.problems.append(Problem(
            checkpoint.seq + 1, f"record beyond the signed checkpoint (seq {checkpoint.seq}): "
                                "appended without the workstation key"))
    expected = GENESIS_HASH if checkpoint.seq == 0 else hashes.get(checkpoint.seq)
    if expected is not None and expected != checkpoint.hash:
        result.problems.append(Problem(checkpoint.seq,
                                       "hash differs from the signed checkpoint (record replaced)"))
