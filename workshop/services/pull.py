"""Pull signed baselines and packages the group's publishers put in the central store.

Each file is written beside its destination, verified there exactly as a local file is
(load_baseline / verify_package against the trust store), and only then moved into place in
one rename: a file that fails is refused and deleted, and the one already in place stays.
Packages and baselines are verified again at use, with the trust store of the adapter in use
(a real vehicle refuses demo-signed material), as every local file is.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from workshop.foundation.errors import WorkshopError
from workshop.packages.baseline import load_baseline
from workshop.packages.verify import verify_package
from workshop.services.baseline_check import BASELINE_SUFFIX, PACKAGE_SUFFIX
from workshop.store.session import StoreSession
from workshop.trust.store import TrustStore

KINDS = {"baseline": BASELINE_SUFFIX, "package": PACKAGE_SUFFIX}


@dataclass
class PullResult:
    pulled: list[str] = field(default_factory=list)
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)  # "name: why"

    def to_json(self) -> dict[str, object]:
        return {"pulled": self.pulled, "unchanged": self.unchanged, "refused": self.refused}


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _why_not(kind: str, path: Path, trust: TrustStore) -> str | None:
    if kind == "baseline":
        try:
            load_baseline(path, trust)
        except WorkshopError as exc:
            return exc.message
        return None
    report = verify_package(path, trust, store_images=False)
    if report.ok:
        return None
    return report.error.message if report.error else "package verification failed"


def pull(store: StoreSession, folders: dict[str, Path], trust: TrustStore) -> PullResult:
    """Bring the latest published baselines and packages into `folders` (by kind)."""
    result = PullResult()
    for kind, name, sha256, content in store.published(list(KINDS)):
        if not name.endswith(KINDS[kind]) or "/" in name or name.startswith("."):
            result.refused.append(f"{name}: not a {kind} file name")
            continue
        target = folders[kind] / name
        if _sha256(target) == sha256:
            result.unchanged += 1
            continue
        incoming = target.with_name(f".incoming-{name}")
        incoming.write_bytes(content)
        why = _why_not(kind, incoming, trust)
        if why is not None:
            incoming.unlink(missing_ok=True)
            result.refused.append(f"{name}: {why}")
            continue
        os.replace(incoming, target)
        result.pulled.append(name)
    return result
