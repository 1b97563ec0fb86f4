"""B8: Ed25519 chains get the same checks as P-256 chains.

cryptography's X.509 verifier (layer 1) refuses Ed25519 keys outright (its web-PKI profile
has no switch for them), so for Ed25519 only our own checks (layer 2) run. These tests hold
layer 2 to everything layer 1 refuses, defect by defect, and both key types to one verdict.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.x509 import verification as xv

from tests.trust import defects
from workshop.trust import chain as chain_module
from workshop.trust.chain import verify_chain
from workshop.trust.errors import TrustError
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

ACCEPTED_BY_BOTH_LAYERS = {"none", "ca-without-authority-key-id",
                           "leaf-without-authority-key-id", "ca-restricted-to-code-signing"}
KINDS = ["p256", "ed25519"]


def _verdict(chain: defects.Chain, folder: Path) -> str:
    store = TrustStore.load(chain.store(folder))
    try:
        verify_chain(chain.presented, store, purpose=Purpose.FIRMWARE)
    except TrustError as exc:
        return type(exc).__name__
    return "accepted"


def test_library_verifier_refuses_ed25519() -> None:
    """Why layer 1 is skipped for Ed25519: a faultless chain is refused by the library."""
    chain = defects.build("ed25519", "none")
    policy = (xv.PolicyBuilder().store(xv.Store([chain.root])).time(dt.datetime.now(dt.UTC))
              .extension_policies(ca_policy=xv.ExtensionPolicy.webpki_defaults_ca(),
                                  ee_policy=xv.ExtensionPolicy.permit_all()))
    with pytest.raises(xv.VerificationError, match="Forbidden public key algorithm"):
        policy.build_client_verifier().verify(chain.leaf, [chain.intermediate])


@pytest.mark.parametrize("defect", sorted(defects.DEFECTS))
def test_our_checks_refuse_whatever_the_library_refuses(
        defect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = defects.build("p256", defect)
    try:
        chain_module._library_verify(chain.path, dt.datetime.now(dt.UTC))
        library = "accepted"
    except TrustError:
        library = "refused"
    monkeypatch.setattr(chain_module, "_library_verify", lambda path, at: None)
    ours = _verdict(chain, tmp_path)
    if library == "refused":
        assert ours != "accepted", f"only the library catches {defect}"
    assert (ours == "accepted") == (defect in ACCEPTED_BY_BOTH_LAYERS)


@pytest.mark.parametrize("defect", sorted(defects.DEFECTS))
def test_both_key_types_get_the_same_verdict(defect: str, tmp_path: Path) -> None:
    verdicts = {kind: _verdict(defects.build(kind, defect), tmp_path / kind)  # type: ignore[arg-type]
                for kind in KINDS}
    assert verdicts["p256"] == verdicts["ed25519"], verdicts
    assert (verdicts["p256"] == "accepted") == (defect in ACCEPTED_BY_BOTH_LAYERS)
