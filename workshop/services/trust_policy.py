"""Which roots are trusted for an action: the one place that decides it.

- The configured trust store is `--trust DIR`, else `<user data>/trust/` when it exists
  (purpose sub-folders firmware/, baseline/, workstation/ and CRLs, see workshop.trust.store).
- The demo roots count only when the target is the simulator: with `--trust DIR` they count
  if DIR holds them; without it the per-user demo PKI's store is used (with the installed
  store added when there is one).
- For a real adapter every demo root is taken out of the store, wherever it came from, so a
  demo key can never vouch for a change to a real vehicle. No configured store is an error.

Lower layers verify against the store they are given and know nothing of adapters.
"""

from __future__ import annotations

from pathlib import Path

from workshop.foundation.errors import ConfigError
from workshop.foundation.paths import user_home
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import user_demo_pki
from workshop.trust.store import TrustStore

INSTALLED_FOLDER = "trust"


def installed_trust_dir() -> Path:
    """Where an installation keeps its production trust store."""
    return user_home() / INSTALLED_FOLDER


def trust_store(target: AdapterConfig, trust_dir: Path | None = None) -> TrustStore:
    """The trust store for an action on `target` (see the module docstring)."""
    installed = installed_trust_dir()
    configured = trust_dir or (installed if installed.is_dir() else None)
    if target.is_simulated:
        if trust_dir is not None:
            return TrustStore.load(trust_dir)
        demo = TrustStore.load(user_demo_pki().trust_dir)
        return demo if configured is None else TrustStore.load(configured).merged(demo)
    if configured is None:
        raise ConfigError(
            f"no trust store configured for adapter '{target.interface}'",
            hint=f"put the OEM and dealer root certificates into {installed}/firmware/, "
                 "baseline/ and workstation/ with their CRLs, or pass --trust DIR")
    return TrustStore.load(configured).without_demo_roots()
