"""Tamper-evident audit log: hash-chained, signed records in SQLite, a signed head outside the
database, and verifiable exports.

Imports workshop.foundation and workshop.trust (and cryptography); which trust store checks the
signers is decided by the caller, through `workstation_chain_verifier(trust_dir)`.
"""

from workshop.audit.bracket import Intent, intent_and_outcome
from workshop.audit.errors import AuditError, AuditTamperedError
from workshop.audit.export import export_log, verify_export
from workshop.audit.identity import (
    default_log_path,
    default_trust_dir,
    demo_identity,
    workstation_chain_verifier,
)
from workshop.audit.installation import Installation, load_installation
from workshop.audit.records import Checkpoint, Record
from workshop.audit.signing import AuditSigner, fingerprint, workstation_id
from workshop.audit.store import AuditLog
from workshop.audit.verification import (
    ChainVerifier,
    Problem,
    SignerInfo,
    SignerStatus,
    VerifyResult,
)

__all__ = [
    "AuditError",
    "AuditLog",
    "AuditSigner",
    "AuditTamperedError",
    "ChainVerifier",
    "Checkpoint",
    "Installation",
    "Intent",
    "Problem",
    "Record",
    "SignerInfo",
    "SignerStatus",
    "VerifyResult",
    "default_log_path",
    "default_trust_dir",
    "demo_identity",
    "export_log",
    "fingerprint",
    "intent_and_outcome",
    "load_installation",
    "verify_export",
    "workstation_chain_verifier",
    "workstation_id",
]
