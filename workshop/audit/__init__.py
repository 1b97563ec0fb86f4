"""Tamper-evident audit log: hash-chained, signed records in SQLite, with verifiable exports.

Imports only workshop.foundation (and cryptography); the trust store is injected as a
`verify_chain(cert)` callable.
"""

from workshop.audit.bracket import Intent, intent_and_outcome
from workshop.audit.errors import AuditError, AuditTamperedError
from workshop.audit.export import export_log, verify_export
from workshop.audit.identity import (
    default_log_path,
    load_or_create_workstation_identity,
    workstation_chain_verifier,
)
from workshop.audit.records import Checkpoint, Record
from workshop.audit.signing import AuditSigner, workstation_id
from workshop.audit.store import AuditLog
from workshop.audit.verification import ChainVerifier, Problem, VerifyResult

__all__ = [
    "AuditError",
    "AuditLog",
    "AuditSigner",
    "AuditTamperedError",
    "ChainVerifier",
    "Checkpoint",
    "Intent",
    "Problem",
    "Record",
    "VerifyResult",
    "default_log_path",
    "export_log",
    "intent_and_outcome",
    "load_or_create_workstation_identity",
    "verify_export",
    "workstation_chain_verifier",
    "workstation_id",
]
