"""TLS contexts for Diagnostics over IP (ISO 13400-2:2019, port 3496), from the trust store.

The tester checks the gateway's certificate against the trust store's doip-gateway/ roots
only (never the system CAs), and shows the workstation identity as its client certificate;
a gateway checks testers against the workstation/ (dealer) roots.

The standard library loads a certificate and key from files only. The workstation key lives
encrypted (credential store secret or passphrase) and is unlocked in memory, so it is handed
to OpenSSL re-encrypted with a one-time random password, through an anonymous in-memory file
(Linux memfd) where there is one, else a private temporary file removed right after loading:
the key never touches the disk unencrypted, and the password exists only in this process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from workshop.trust.certs import cert_pem
from workshop.trust.errors import KeyFileError
from workshop.trust.keys import PrivateKey
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

NO_GATEWAY_ROOTS_HINT = ("install the vehicle maker's DoIP gateway root certificate into the "
                         "trust store's doip-gateway/ folder")


@contextlib.contextmanager
def _key_file(data: bytes) -> Iterator[str]:
    """A path OpenSSL can open holding `data`, gone when the block ends."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("workshop-tls-identity", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="workshop-tls-") as folder:  # mode 0700
        path = Path(folder) / "identity.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield str(path)


def load_identity(context: ssl.SSLContext, key: PrivateKey,
                  chain: Sequence[x509.Certificate]) -> None:
    """Give `context` this certificate chain (leaf first) and its private key."""
    password = secrets.token_bytes(32)
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(password))
    with _key_file(b"".join(cert_pem(c) for c in chain) + key_pem) as path:
        try:
            context.load_cert_chain(path, password=password)
        except ssl.SSLError as exc:
            raise KeyFileError(f"the TLS identity cannot be used: {exc.reason or exc}",
                               hint="check that the key matches its certificate") from exc


def _roots_pem(store: TrustStore, purpose: Purpose) -> str:
    return "".join(cert_pem(c).decode("ascii") for c in store.roots_for(purpose))


def client_context(store: TrustStore, identity: tuple[PrivateKey, Sequence[x509.Certificate]]
                   | None = None) -> ssl.SSLContext:
    """The tester's context: the gateway must chain to a doip-gateway/ root (serverAuth)."""
    roots = _roots_pem(store, Purpose.DOIP_GATEWAY)
    if not roots:
        raise KeyFileError("the trust store has no DoIP gateway root, so no gateway's TLS "
                           "certificate can be checked", hint=NO_GATEWAY_ROOTS_HINT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # A vehicle's address comes from DHCP or auto-IP: there is no host name to match. The
    # chain to the maker's gateway root (and serverAuth usage) is what is checked.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=roots)
    if identity is not None:
        load_identity(context, *identity)
    return context


def server_context(key: PrivateKey, chain: Sequence[x509.Certificate],
                   client_roots: TrustStore | None = None) -> ssl.SSLContext:
    """A gateway's context; with `client_roots`, testers must show a workstation certificate
    chaining to one of its workstation/ (dealer) roots."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    load_identity(context, key, chain)
    if client_roots is not None:
        roots = _roots_pem(client_roots, Purpose.WORKSTATION)
        if not roots:
            raise KeyFileError("no workstation root to check testers' certificates against",
                               hint="install the dealer root into workstation/")
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=roots)
    return context
