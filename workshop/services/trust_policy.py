"""Which roots are trusted for an action: the one place that decides it.

- The configured trust store is `--trust DIR`, else the one in Settings, the system one the
  installer laid down, or `<user data>/trust/` (workshop.trust.location); purpose
  sub-folders firmware/, baseline/, workstation/ and CRLs (workshop.trust.store).
- The demo roots count only when the target is the simulator: with `--trust DIR` they count
  if DIR holds them; without it the per-user demo PKI's store is used (with the installed
  store added when there is one).
- For a real adapter every demo root is taken out of the store, wherever it came from, so a
  demo key can never vouch for a change to a real vehicle. No configured store is an error,
  and so is one that another account can write to.
- Without `--trust DIR`, the CRLs and roots pulled from the central store (each verified
  against the store in use when pulled) are added: a newer CRL there wins over an older one.

Lower layers verify against the store they are given and know nothing of adapters.
"""

from __future__ import annotations

from pathlib import Path

from workshop.foundation.errors import ConfigError
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import user_demo_pki
from workshop.trust.location import (
    check_not_writable_by_others,
    configured_trust_dir,
    pulled_trust_dir,
    system_trust_dir,
    user_trust_dir,
)
from workshop.trust.store import TrustStore


def installed_trust_dir() -> Path:
    """Where a per-user installation keeps its production trust store (a system-wide one,
    read-only for the technician, is preferred: see workshop.trust.location)."""
    return user_trust_dir()


def trust_store(target: AdapterConfig, trust_dir: Path | None = None) -> TrustStore:
    """The trust store for an action on `target` (see the module docstring)."""
    configured = trust_dir or configured_trust_dir()
    if target.is_simulated:
        if trust_dir is not None:
            return TrustStore.load(trust_dir)
        demo = TrustStore.load(user_demo_pki().trust_dir)
        store = demo if configured is None else TrustStore.load(configured).merged(demo)
        return _with_pulled(store)
    if configured is None:
        raise ConfigError(
            f"no trust store configured for adapter '{target.interface}'",
            hint=f"install the OEM and dealer root certificates into {system_trust_dir()} "
                 "(firmware/, baseline/ and workstation/ with their CRLs), choose a trust "
                 "store in Settings, or pass --trust DIR")
    check_not_writable_by_others(configured)
    store = TrustStore.load(configured)
    return (store if trust_dir is not None else _with_pulled(store)).without_demo_roots()


def _with_pulled(store: TrustStore) -> TrustStore:
    pulled = pulled_trust_dir()
    if not pulled.is_dir():
        return store
    check_not_writable_by_others(pulled)
    return store.merged(TrustStore.load(pulled))
