"""Chain verification shared by the local log and exports: finds which seq is wrong and why.

Every record names its signer certificate; whether that signer is trusted depends only on the
certificate's chain and the trust store (the injected `ChainVerifier`), never on the adapter of
the command that verifies. The signed head (kept outside the database) catches a database that
was rolled back or lost its WAL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography import x509

from workshop.audit.errors import AuditError, AuditTamperedError
from workshop.audit.intents import open_intents
from workshop.audit.records import (
    GENESIS_HASH,
    STORE_ALARM_ACTION,
    STORE_RESOLVED_ACTION,
    Checkpoint,
    Record,
    record_signed_bytes,
)
from workshop.audit.signing import (
    certificate_key,
    fingerprint,
    signature_valid,
    workstation_id,
)


class SignerStatus(StrEnum):
    CERTIFIED = "certified"
    DEMO = "simulator (demo identity)"
    UNCERTIFIED = "signed, identity not certified"
    UNTRUSTED = "not trusted"
    UNCHECKED = "chain not checked"


# How much a signed head vouches for: a head signed by a lower class than the records it
# covers could have been re-signed by anyone holding that lower key (the demo key's
# passphrase is public, anyone can make a self-signed certificate).
_RANK = {SignerStatus.DEMO: 0, SignerStatus.UNCERTIFIED: 1, SignerStatus.CERTIFIED: 2}

ChainVerifier = Callable[[Sequence[x509.Certificate]], SignerStatus]
"""Returns CERTIFIED or DEMO for a chain (leaf first) that reaches a trusted workstation root;
raises when it does not (wired to the trust store)."""


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str


@dataclass
class SignerInfo:
    fingerprint: str
    workstation: str
    status: SignerStatus
    detail: str = ""
    records: int = 0

    def to_json(self) -> dict[str, object]:
        return {"fingerprint": self.fingerprint, "workstation": self.workstation,
                "status": str(self.status), "detail": self.detail, "records": self.records}


@dataclass
class VerifyResult:
    """Outcome of a verification; `ok` only when there are no problems."""

    records: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    checkpoint_seq: int | None = None
    head_seq: int | None = None
    chain_checked: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signers: dict[str, SignerInfo] = field(default_factory=dict)
    record_signers: dict[int, str] = field(default_factory=dict)  # seq -> fingerprint
    # intents with no outcome record: a crash (kill -9) of the action, or it is still running
    open_intents: list[OpenIntent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def status_of(self, seq: int) -> SignerStatus | None:
        fp = self.record_signers.get(seq)
        return self.signers[fp].status if fp in self.signers else None

    def raise_if_failed(self) -> None:
        if self.problems:
            first = self.problems[0]
            raise AuditTamperedError(first.seq, first.reason)

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "records": self.records, "last_seq": self.last_seq,
                "checkpoint_seq": self.checkpoint_seq, "head_seq": self.head_seq,
                "chain_checked": self.chain_checked,
                "signers": [s.to_json() for s in self.signers.values()],
                "problems": [{"seq": p.seq, "reason": p.reason} for p in self.problems],
                "notes": list(self.notes),
                "open_intents": [{"seq": i.seq, "action": i.action, "ecu": i.ecu,
                                  "vin": i.vin, "time": i.time} for i in self.open_intents]}


@dataclass(frozen=True)
class OpenIntent:
    seq: int
    action: str
    ecu: str | None
    vin: str | None
    time: str


@dataclass(frozen=True)
class HeadInput:
    """The signed head as found outside the database: `head`, or why there is none."""

    head: Checkpoint | None
    missing_reason: str | None = None


def _shape_problem(rec: Record) -> str | None:
    for name in ("time", "workstation", "technician", "action", "prev_hash", "signer", "hash"):
        if not isinstance(getattr(rec, name), str):
            return f"malformed field {name!r}"
    for name in ("vin", "ecu"):
        if getattr(rec, name) is not None and not isinstance(getattr(rec, name), str):
            return f"malformed field {name!r}"
    if not isinstance(rec.details, dict):
        return "malformed field 'details'"
    return None


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:
        return False
    return True


def classify(chain: Sequence[x509.Certificate], verify_chain_fn: ChainVerifier | None
             ) -> tuple[SignerStatus, str]:
    """The signer's standing and a detail (why it is not trusted)."""
    if verify_chain_fn is None:
        return SignerStatus.UNCHECKED, ""
    try:
        return verify_chain_fn(chain), ""
    except Exception as exc:
        if len(chain) == 1 and _self_signed(chain[0]):
            return SignerStatus.UNCERTIFIED, "self-signed, no certificate from the dealer CA"
        return SignerStatus.UNTRUSTED, str(exc)


class _Walk:
    def __init__(self, certificates: Mapping[str, Sequence[x509.Certificate]],
                 verify_chain_fn: ChainVerifier | None,
                 pinned: Sequence[x509.Certificate] | None) -> None:
        self.result = VerifyResult(chain_checked=verify_chain_fn is not None)
        self.certificates = certificates
        self.verify_chain_fn = verify_chain_fn
        self.pinned = None if pinned is None else {fingerprint(c) for c in pinned}
        self.first_use: dict[str, int] = {}

    def signer(self, fp: str, seq: int) -> tuple[x509.Certificate | None, str | None]:
        """The signer's certificate, or why it cannot be used."""
        chain = self.certificates.get(fp)
        if not chain:
            return None, f"signer certificate {fp[:16]} is not in the log"
        if fingerprint(chain[0]) != fp:
            return None, f"signer certificate {fp[:16]} does not match its fingerprint"
        try:
            certificate_key(chain[0])
            station = workstation_id(chain[0])
        except AuditError as exc:
            return None, exc.message
        if self.pinned is not None and fp not in self.pinned:
            return None, "signed by a different workstation certificate than the pinned one"
        if fp not in self.result.signers:
            status, detail = classify(chain, self.verify_chain_fn)
            self.result.signers[fp] = SignerInfo(fp, station, status, detail)
            self.first_use[fp] = seq
        return chain[0], None


def verify_chain(records: Iterable[Record], checkpoint: Checkpoint | None,
                 certificates: Mapping[str, Sequence[x509.Certificate]],
                 verify_chain_fn: ChainVerifier | None = None, *,
                 log_id: str | None = None, head: HeadInput | None = None,
                 pinned: Sequence[x509.Certificate] | None = None,
                 require_installation_head: bool = False) -> VerifyResult:
    """Check records (in stored order), the signed checkpoint and the signed head.

    Each problem names the seq that is wrong. After a problem the walk continues from the
    stored values so one altered record yields one problem, not a cascade. `head=None` skips
    the head check (a caller without one); `HeadInput(None, why)` reports it missing.
    `require_installation_head` (this machine has its own identity) refuses a head signed by
    the demo identity.
    """
    walk = _Walk(certificates, verify_chain_fn, pinned)
    result = walk.result
    all_records = list(records)
    closed = _closing_records(all_records)
    expected_seq, prev_hash = 1, GENESIS_HASH
    hashes: dict[int, str] = {}
    seen: list[Record] = []
    for rec in all_records:
        seen.append(rec)
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
        cert = None
        if reason is None:
            cert, reason = walk.signer(rec.signer, rec.seq)
        if cert is not None and not signature_valid(certificate_key(cert), rec.signature,
                                                    record_signed_bytes(rec.hash)):
            reason = "signature does not verify with its signer certificate (forged record)"
        if reason is None and cert is not None and rec.workstation != workstation_id(cert):
            reason = (f"workstation {rec.workstation!r} differs from certificate "
                      f"{workstation_id(cert)!r}")
        if reason is None:
            result.signers[rec.signer].records += 1
            result.record_signers[rec.seq] = rec.signer
            if rec.action == STORE_ALARM_ACTION:
                alarm = f"tamper alarm from the central store: " \
                        f"{rec.details.get('reason', 'no reason given')}"
                closing = closed.get(rec.seq)
                if closing is None:
                    result.problems.append(Problem(rec.seq, alarm))
                else:
                    d = closing.details
                    result.notes.append(
                        f"seq {rec.seq}: {alarm}; RESOLVED (seq {closing.seq}) by auditor "
                        f"{d.get('auditor')} (role {d.get('resolved_by')}) at "
                        f"{d.get('resolved_at')}: {d.get('reason')}")
        else:
            result.problems.append(Problem(rec.seq, reason))
        expected_seq = max(expected_seq, rec.seq + 1)
        prev_hash = rec.hash if isinstance(rec.hash, str) else ""
        hashes[rec.seq] = prev_hash
        result.last_seq, result.last_hash = rec.seq, prev_hash
    for fp, info in result.signers.items():
        if info.status is SignerStatus.UNTRUSTED:
            result.problems.append(Problem(walk.first_use[fp], (
                f"workstation certificate {info.workstation!r} ({fp[:16]}) is not trusted: "
                f"{info.detail}")))
    top = max((_RANK.get(s.status, -1) for s in result.signers.values() if s.records),
              default=-1)
    _check_checkpoint(walk, checkpoint, hashes, log_id, top, require_installation_head)
    if head is not None:
        _check_head(walk, head, hashes, log_id, top, require_installation_head)
    result.open_intents = [OpenIntent(r.seq, str(r.action), r.ecu, r.vin, str(r.time))
                           for r in open_intents(r for r in seen if isinstance(r.seq, int))]
    return result


def _closing_records(records: Sequence[Record]) -> dict[int, Record]:
    """Alarm seq -> the later record that closes it (a pulled, verified resolution)."""
    closed: dict[int, Record] = {}
    for rec in records:
        if rec.action != STORE_RESOLVED_ACTION or not isinstance(rec.details, Mapping):
            continue
        seq = rec.details.get("alarm_seq")
        if isinstance(seq, int) and isinstance(rec.seq, int) and seq < rec.seq:
            closed.setdefault(seq, rec)
    return closed


def _signed_statement(walk: _Walk, cp: Checkpoint, what: str, at: int,
                      log_id: str | None) -> Problem | None:
    if not all(isinstance(v, str) for v in (cp.log, cp.hash, cp.signer, cp.workstation)) \
            or not isinstance(cp.seq, int):
        return Problem(at, f"{what} is malformed")
    cert, why = walk.signer(cp.signer, at)
    if cert is None:
        return Problem(at, f"{what} signature invalid: {why}")
    if not signature_valid(certificate_key(cert), cp.signature, cp.signed_bytes()):
        return Problem(at, f"{what} signature invalid")
    if log_id is not None and cp.log != log_id:
        return Problem(at, f"{what} belongs to another log ({cp.log[:16]}, this log is "
                           f"{log_id[:16]}): the database was replaced")
    return None


def _check_rank(walk: _Walk, cp: Checkpoint, what: str, top: int, require_installation: bool
                ) -> None:
    info = walk.result.signers.get(cp.signer)
    if info is None or info.status in (SignerStatus.UNCHECKED, SignerStatus.UNTRUSTED):
        return
    rank = _RANK[info.status]
    if info.status is SignerStatus.DEMO and (top > rank or require_installation):
        walk.result.problems.append(Problem(cp.seq, (
            f"{what} is signed by the demo identity, which cannot vouch for this log "
            "(records of this workstation's own identity may have been removed)")))
    elif top > rank:
        walk.result.notes.append(
            f"{what} is signed by an identity that is not certified; it protects the "
            "certified records only as far as that key is kept safe")


def _check_checkpoint(walk: _Walk, checkpoint: Checkpoint | None, hashes: dict[int, str],
                      log_id: str | None, top: int, require_installation: bool) -> None:
    result = walk.result
    last = result.last_seq
    if checkpoint is None:
        result.problems.append(Problem(last + 1, "signed checkpoint missing (tail unprotected)"))
        return
    result.checkpoint_seq = checkpoint.seq
    bad = _signed_statement(walk, checkpoint, "checkpoint", checkpoint.seq, log_id)
    if bad is not None:
        result.problems.append(bad)
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
    _check_rank(walk, checkpoint, "signed checkpoint", top, require_installation)


def _check_head(walk: _Walk, given: HeadInput, hashes: dict[int, str], log_id: str | None,
                top: int, require_installation: bool) -> None:
    result = walk.result
    last = result.last_seq
    head = given.head
    if head is None:
        result.problems.append(Problem(last + 1, (
            f"signed head {given.missing_reason or 'missing'}: a rollback of the database "
            "cannot be ruled out")))
        return
    result.head_seq = head.seq
    bad = _signed_statement(walk, head, "signed head", min(head.seq, last + 1)
                            if isinstance(head.seq, int) else last + 1, log_id)
    if bad is not None:
        result.problems.append(bad)
        return
    if head.seq > last:
        result.problems.append(Problem(last + 1, (
            f"{head.seq - last} committed record(s) missing after seq {last}: the database was "
            f"rolled back or its WAL deleted (the signed head counts {head.seq})")))
        return
    expected = GENESIS_HASH if head.seq == 0 else hashes.get(head.seq)
    if expected is not None and expected != head.hash:
        result.problems.append(Problem(head.seq, (
            "record differs from the signed head: the database was rolled back and "
            "rewritten")))
        return
    if head.seq < last:
        result.notes.append(
            f"signed head lags the database by {last - head.seq} record(s) (a crash right "
            "after a commit); the database checkpoint covers them")
    _check_rank(walk, head, "signed head", top, require_installation)
