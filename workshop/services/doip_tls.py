"""The tester's TLS context for DoIP: the workstation identity as client certificate, the
gateway's certificate checked against the trust store's doip-gateway/ roots.

On the simulator the demo PKI stands in for both (its OEM root issued the simulated
gateway's certificate, its dealer root the demo workstation); on a real vehicle it is this
installation's own identity (unlocked from the credential store or by passphrase) and the
configured trust store, without the demo roots.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from workshop.audit.identity import demo_identity
from workshop.foundation.errors import ConfigError
from workshop.services.identity import (
    PassphraseSource,
    require_installation,
    terminal_passphrase,
    unlock_installation,
)
from workshop.trust.demo import demo_gateway_identity, user_demo_pki
from workshop.trust.location import configured_trust_dir
from workshop.trust.store import TrustStore
from workshop.trust.tls import client_context, server_context


def workstation_tls_context(*, simulator: bool, trust_dir: Path | None = None,
                   ask: PassphraseSource = terminal_passphrase) -> ssl.SSLContext:
    if simulator:
        signer = demo_identity()
        store = TrustStore.load(user_demo_pki().trust_dir)
    else:
        signer = unlock_installation(require_installation(), ask)
        folder = trust_dir or configured_trust_dir()
        if folder is None:
            raise ConfigError("no trust store is set up to check the DoIP gateway's "
                              "certificate", hint="pass --trust DIR with a doip-gateway/ "
                              "folder holding the vehicle maker's gateway root")
        store = TrustStore.load(folder).without_demo_roots()
    return client_context(store, (signer.private_key, signer.chain))


def simulated_gateway_context(*, ask_client_certificate: bool = True) -> ssl.SSLContext:
    """The simulated gateway's TLS server context (demo PKI); it asks testers for a
    workstation certificate from the demo dealer root unless told not to."""
    gateway = demo_gateway_identity()
    demo_store = TrustStore.load(user_demo_pki().trust_dir)
    return server_context(gateway.key, gateway.chain,
                          demo_store if ask_client_certificate else None)
