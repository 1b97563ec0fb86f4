"""Audit record and checkpoint value types, with their canonical encodings and hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
RECORD_DOMAIN = b"workshop-audit-record/2\n"
CHECKPOINT_KIND = "workshop-audit-checkpoint/2"
# Written by a sync that found the central store holding more of this log, or other content
# at the same seq, than the log itself: the log was cut back or rewritten. A log holding one
# never verifies again (see verification.py); it is kept as evidence and a new log started.
STORE_ALARM_ACTION = "store.tamper-alarm"
# Written by a sync that pulled an auditor's signed resolution of such an alarm; details name
# the alarm record (`alarm_seq`), the auditor, when and why. It closes that alarm: verification
# then reports it as resolved instead of failing.
STORE_RESOLVED_ACTION = "store.alarm-resolved"


def canonical_json(obj: object) -> str:
    """Deterministic JSON: sorted keys, no spaces, ASCII only, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Record:
    """One audit event. `hash` covers every other field except `signature`.

    `signer` is the SHA-256 fingerprint of the signing certificate (kept in the log's
    certificate table), so records of a rotated identity keep verifying with their own key.
    """

    seq: int
    time: str
    workstation: str
    technician: str
    vin: str | None
    ecu: str | None
    action: str
    details: Mapping[str, Any]
    prev_hash: str
    signer: str  # SHA-256 fingerprint (hex) of the signing certificate
    hash: str
    signature: str  # hex

    def content(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "workstation": self.workstation,
                "technician": self.technician, "vin": self.vin, "ecu": self.ecu,
                "action": self.action, "details": self.details, "prev_hash": self.prev_hash,
                "signer": self.signer}

    def computed_hash(self) -> str:
        return record_hash(self.content())

    def to_json(self) -> dict[str, Any]:
        return {**self.content(), "hash": self.hash, "signature": self.signature}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Record:
        return cls(seq=obj["seq"], time=obj["time"], workstation=obj["workstation"],
                   technician=obj["technician"], vin=obj["vin"], ecu=obj["ecu"],
                   action=obj["action"], details=obj["details"], prev_hash=obj["prev_hash"],
                   signer=obj["signer"], hash=obj["hash"], signature=obj["signature"])


def record_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the domain tag plus the canonical JSON of all content fields."""
    return hashlib.sha256(RECORD_DOMAIN + canonical_json(dict(content)).encode()).hexdigest()


def record_signed_bytes(hash_hex: str) -> bytes:
    """What the workstation key signs for a record: the raw 32-byte hash."""
    return bytes.fromhex(hash_hex)


@dataclass(frozen=True)
class Checkpoint:
    """Signed head of log `log`: the latest seq (= record count) and its hash (seq 0 / genesis
    hash when empty). Kept inside the database and, as the head file, outside it."""

    log: str
    seq: int
    hash: str
    time: str
    workstation: str
    signer: str  # fingerprint of the certificate whose key signed this checkpoint
    signature: str  # hex

    def signed_bytes(self) -> bytes:
        return checkpoint_signed_bytes(self.log, self.seq, self.hash, self.time,
                                       self.workstation, self.signer)

    def to_json(self) -> dict[str, Any]:
        return {"log": self.log, "seq": self.seq, "hash": self.hash, "time": self.time,
                "workstation": self.workstation, "signer": self.signer,
                "signature": self.signature}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Checkpoint:
        return cls(log=obj["log"], seq=obj["seq"], hash=obj["hash"], time=obj["time"],
                   workstation=obj["workstation"], signer=obj["signer"],
                   signature=obj["signature"])


def checkpoint_signed_bytes(log: str, seq: int, hash_hex: str, time: str, workstation: str,
                            signer: str) -> bytes:
    return canonical_json({"kind": CHECKPOINT_KIND, "log": log, "seq": seq, "hash": hash_hex,
                           "time": time, "workstation": workstation, "signer": signer}).encode()
