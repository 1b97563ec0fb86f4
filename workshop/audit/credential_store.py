"""The OS credential store (via the `keyring` package) holding the secret that encrypts the
workstation key. Absent package, the fail/null backend (headless Linux) or a backend that
errors all count as "no credential store": the caller falls back to a passphrase."""

from __future__ import annotations

from typing import Any

SERVICE = "workshop-audit-workstation-key"


def _backend() -> Any | None:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        priority = float(getattr(backend, "priority", 0))
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or priority <= 0 \
            or type(backend).__module__.startswith("keyring.backends.null"):
        return None
    return backend


def available() -> bool:
    return _backend() is not None


def describe() -> str:
    backend = _backend()
    return type(backend).__name__ if backend is not None else "none"


def store(user: str, secret: str) -> bool:
    """Save the secret; False if the credential store is missing or refuses."""
    backend = _backend()
    if backend is None:
        return False
    try:
        backend.set_password(SERVICE, user, secret)
        return backend.get_password(SERVICE, user) == secret
    except Exception:
        return False


def load(user: str) -> str | None:
    backend = _backend()
    if backend is None:
        return None
    try:
        value = backend.get_password(SERVICE, user)
    except Exception:
        return None
    return value if isinstance(value, str) else None
