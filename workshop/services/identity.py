"""The installation's workstation identity as the use cases see it: create it (OS credential
store, else a passphrase the technician sets), unlock it, CSR out, certificate in, show it."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from workshop.audit import (
    AuditError,
    AuditLog,
    AuditSigner,
    Installation,
    SignerStatus,
    credential_store,
    default_log_path,
    installation,
    load_installation,
    workstation_chain_verifier,
)
from workshop.audit.verification import classify
from workshop.foundation.errors import WorkshopError
from workshop.foundation.paths import atomic_write
from workshop.foundation.settings import load_settings
from workshop.trust.certs import load_certs
from workshop.trust.keys import KeyType

PASSPHRASE_ENV = "WORKSHOP_AUDIT_PASSPHRASE"
PassphraseSource = Callable[[str, bool], str | None]
"""(prompt, confirm) -> the passphrase, or None when there is no way to get one."""
NO_IDENTITY_HINT = ("run `workshop identity init`, send `workshop identity csr` to your dealer "
                    "CA and `workshop identity import-cert` its answer")


def technician() -> str:
    """The technician named in audit records: $WORKSHOP_TECHNICIAN, else the name and id in
    Settings, else the OS user."""
    return (os.environ.get("WORKSHOP_TECHNICIAN") or load_settings().technician
            or getpass.getuser())


def terminal_passphrase(prompt: str, confirm: bool) -> str | None:
    """$WORKSHOP_AUDIT_PASSPHRASE, else asked on the terminal; None when neither exists."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass("repeat it: ") != first:
        raise AuditError("the two passphrases differ", hint="run the command again")
    return first


@dataclass(frozen=True)
class IdentityReport:
    workstation: str
    fingerprint: str
    protection: str
    status: SignerStatus
    detail: str
    issuer: str
    not_after: str
    folder: Path
    note: str = ""

    def to_json(self) -> dict[str, object]:
        return {"workstation": self.workstation, "fingerprint": self.fingerprint,
                "protection": self.protection, "status": str(self.status),
                "detail": self.detail, "issuer": self.issuer, "not_after": self.not_after,
                "folder": str(self.folder), "note": self.note}


def report(identity: Installation, trust_dir: Path | None = None) -> IdentityReport:
    status, detail = classify(identity.chain, workstation_chain_verifier(trust_dir))
    cert = identity.certificate
    return IdentityReport(identity.workstation, identity.fingerprint, identity.protection,
                          status, detail, cert.issuer.rfc4514_string(),
                          f"{cert.not_valid_after_utc:%Y-%m-%d}", identity.folder)


def key_protection() -> tuple[str, str] | None:
    """(workstation, "keyring" or "passphrase") of this installation's key, without checking
    its chain (cheap enough for the GUI thread); None before the first run."""
    identity = load_installation()
    return None if identity is None else (identity.workstation, identity.protection)


def show_identity(trust_dir: Path | None = None) -> IdentityReport | None:
    identity = load_installation()
    return None if identity is None else report(identity, trust_dir)


def init_identity(*, protect: Literal["auto", "keyring", "passphrase"] = "auto",
                  workstation: str | None = None, key_type: KeyType = "p256",
                  rotate: bool = False, ask: PassphraseSource = terminal_passphrase
                  ) -> IdentityReport:
    """Create this installation's key; the OS credential store protects it where one works."""
    use_keyring = protect == "keyring" or (protect == "auto" and credential_store.available())
    if protect == "keyring" and not credential_store.available():
        raise AuditError("no usable OS credential store (keyring) on this machine",
                         hint="protect the key with a passphrase instead")
    passphrase = None
    if not use_keyring:
        given = ask("passphrase for the new workstation key", True)
        passphrase = given.encode() if given else None
    previous = load_installation() if rotate else None
    identity = installation.create_installation(
        protection="keyring" if use_keyring else "passphrase", passphrase=passphrase,
        workstation=workstation, key_type=key_type, rotate=rotate)
    note = _record_new_identity(identity, passphrase, previous)
    return replace(report(identity), note=note)


def _record_new_identity(identity: Installation, passphrase: bytes | None,
                         previous: Installation | None) -> str:
    """The new key's first record: from now on it signs the log's head, so records signed
    before (by the demo identity or a retired key) stay vouched for. Returns a note if the log
    refused it (e.g. it was tampered with: that is for `workshop audit verify` to tell)."""
    try:
        signer = installation.unlock(identity, passphrase)
        with AuditLog.open(default_log_path(), signer) as log:
            log.append("identity.rotated" if previous else "identity.created", vin=None,
                       ecu=None, technician=technician(),
                       details={"workstation": identity.workstation,
                                "certificate": identity.fingerprint,
                                "previous": previous.fingerprint if previous else None})
    except AuditError as exc:
        return f"not recorded in the audit log: {exc.message}"
    return ""


def require_installation() -> Installation:
    identity = load_installation()
    if identity is None:
        raise AuditError("this installation has no workstation identity of its own; actions "
                         "on a real vehicle must be signed by it", hint=NO_IDENTITY_HINT)
    return identity


def unlock_installation(identity: Installation,
                        ask: PassphraseSource = terminal_passphrase) -> AuditSigner:
    passphrase = None
    if identity.protection == "passphrase":
        given = ask(f"passphrase of workstation key {identity.workstation}", False)
        passphrase = given.encode() if given else None
    return installation.unlock(identity, passphrase)


def write_csr(out: Path, *, organization: str | None = None,
              ask: PassphraseSource = terminal_passphrase) -> IdentityReport:
    identity = require_installation()
    signer = unlock_installation(identity, ask)  # the CSR proves possession of the key
    atomic_write(Path(out), installation.make_csr(signer, organization))
    return report(identity)


def import_cert(path: Path, trust_dir: Path | None = None) -> IdentityReport:
    identity = require_installation()
    try:
        chain = load_certs(Path(path))
    except WorkshopError as exc:
        raise AuditError(f"cannot read certificate {path}: {exc.message}",
                         hint="import the PEM file the dealer CA returned") from exc
    imported = installation.import_certificate(identity, chain,
                                               workstation_chain_verifier(trust_dir))
    return report(imported, trust_dir)
