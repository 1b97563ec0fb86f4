"""Audit record and checkpoint value types, with their canonical encodings and hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
RECORD_DOMAIN = b"workshop-audit-record/1\n"
CHECKPOINT_KIND = "workshop-audit-checkpoint/1"


def canonical_json(obj: object) -> str:
    """Deterministic JSON: sorted keys, no spaces, ASCII only, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Record:
    """One audit event. `hash` covers every other field except `signature`."""

    seq: int
    time: str
    workstation: str
    technician: str
    vin: str | None
    ecu: str | None
    action: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str
    signature: str  # hex

    def content(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "workstation": self.workstation,
                "technician": self.technician, "vin": self.vin, "ecu": self.ecu,
                "action": self.action, "details": self.details, "prev_hash": self.prev_hash}

    def computed_hash(self) -> str:
        return record_hash(self.content())

    def to_json(self) -> dict[str, Any]:
        return {**self.content(), "hash": self.hash, "signature": self.signature}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Record:
        return cls(seq=obj["seq"], time=obj["time"], workstation=obj["workstation"],
                   technician=obj["technician"], vin=obj["vin"], ecu=obj["ecu"],
                   action=obj["action"], details=obj["details"], prev_hash=obj["prev_hash"],
                   hash=obj["hash"], signature=obj["signature"])


def record_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the domain tag plus the canonical JSON of all content fields."""
    return hashlib.sha256(RECORD_DOMAIN + canonical_json(dict(content)).encode()).hexdigest()


def record_signed_bytes(hash_hex: str) -> bytes:
    """What the workstation key signs for a record: the raw 32-byte hash."""
    return bytes.fromhex(hash_hex)


@dataclass(frozen=True)
class Checkpoint:
    """Signed head of the log: the latest seq and its hash (seq 0 / genesis hash when empty)."""

    seq: int
    hash: str
    time: str
    workstation: str
    signature: str  # hex

    def signed_bytes(self) -> bytes:
        return checkpoint_signed_bytes(self.seq, self.hash, self.time, self.workstation)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "time": self.time,
                "workstation": self.workstation, "signature": self.signature}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Checkpoint:
        return cls(seq=obj["seq"], hash=obj["hash"], time=obj["time"],
                   workstation=obj["workstation"], signature=obj["signature"])


def checkpoint_signed_bytes(seq: int, hash_hex: str, time: str, workstation: str) -> bytes:
    return canonical_json({"kind": CHECKPOINT_KIND, "seq": seq, "hash": hash_hex, "time": time,
                           "workstation": workstation}).encode()
