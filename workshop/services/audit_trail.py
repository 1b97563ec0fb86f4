"""The audit log as the use cases see it: who is working, which identity signs, and checking,
exporting and listing the log.

Who signs is decided here, once: the installation's own identity whenever one exists (always
for a real adapter, which refuses to start without it); the demo identity only for simulator
actions on an installation that has none yet.
"""

from __future__ import annotations

from pathlib import Path

from workshop.audit import (
    AuditLog,
    AuditSigner,
    Record,
    VerifyResult,
    default_log_path,
    demo_identity,
    export_log,
    load_installation,
    verify_export,
    workstation_chain_verifier,
)
from workshop.services.identity import (
    PassphraseSource,
    require_installation,
    technician,
    terminal_passphrase,
    unlock_installation,
)
from workshop.trust.certs import load_certs

# technician() lives with the identity use cases; diagnose and the GUI import it from here
__all__ = ["audit_signer", "export_local_log", "open_audit_log", "recent_records", "technician",
           "verify_log"]


def audit_signer(*, simulated: bool, ask: PassphraseSource = terminal_passphrase
                 ) -> AuditSigner:
    identity = load_installation()
    if identity is None and simulated:
        return demo_identity()
    # once this installation has its own identity it signs everything, so the signed head
    # is never left to the demo key (whose passphrase is public)
    return unlock_installation(identity or require_installation(), ask)


def open_audit_log(*, simulated: bool, ask: PassphraseSource = terminal_passphrase
                   ) -> AuditLog:
    """The log to bracket an action in; `simulated` is whether the vehicle connection is the
    simulator. Raises AuditError (and nothing runs) if the right identity is not available."""
    return AuditLog.open(default_log_path(), audit_signer(simulated=simulated, ask=ask))


def verify_log(*, file: Path | None = None, trust_dir: Path | None = None,
               pinned: Path | None = None) -> VerifyResult:
    """Verify the local log (or an export): trust comes from each signer's chain and the trust
    store only."""
    chain = workstation_chain_verifier(trust_dir)
    pins = load_certs(pinned) if pinned is not None else None
    if file is not None:
        return verify_export(file, pinned=pins, verify_chain_fn=chain)
    with AuditLog.open(default_log_path(), None) as log:
        return log.check(chain, pinned=pins,
                         require_installation_head=load_installation() is not None)


def export_local_log(out: Path) -> int:
    with AuditLog.open(default_log_path(), None) as log:
        return export_log(log, out)


def recent_records(n: int, trust_dir: Path | None = None) -> tuple[list[Record], VerifyResult]:
    """The last `n` records, and the verification that says how far each can be trusted."""
    with AuditLog.open(default_log_path(), None) as log:
        records = log.last(max(n, 0))
        result = log.check(workstation_chain_verifier(trust_dir),
                           require_installation_head=load_installation() is not None)
    return records, result
