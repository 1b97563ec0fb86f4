"""Pull what the group's publishers put in the central store: signed baselines and packages,
CRLs and trust-store updates (a new root with its cross-certificate).

Each item is written beside its destination, verified there exactly as a local file is
(load_baseline / verify_package against the trust store; a CRL or a root with
workshop.trust.updates, which uses the trust store's own checks), and only then moved into
place in one rename: an item that fails is refused in words and deleted, and the one already
in place stays in use. CRLs and roots go to the pulled trust folder
(workshop.trust.location.pulled_trust_dir), which the trust policy adds to the store in use;
the installed trust store itself is never written.
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
from workshop.trust.certs import cert_pem, is_demo
from workshop.trust.purposes import Purpose
from workshop.trust.store import CRL_SUFFIX, TrustStore
from workshop.trust.updates import check_crl, check_root_update

KINDS = {"baseline": BASELINE_SUFFIX, "package": PACKAGE_SUFFIX, "crl": CRL_SUFFIX,
         "trust": ".pem"}


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
    try:
        if kind == "baseline":
            load_baseline(path, trust)
        elif kind == "crl":
            check_crl(path.read_bytes(), trust)
        else:
            report = verify_package(path, trust, store_images=False)
            if not report.ok:
                return report.error.message if report.error else "package verification failed"
    except WorkshopError as exc:
        return exc.message
    return None


def _trust_purpose(name: str) -> Purpose | None:
    """`firmware.new-root.pem` -> Purpose.FIRMWARE: the name says what the root may vouch
    for, and the cross-certificate must come from a root trusted for just that."""
    return Purpose.by_folder(name.split(".", 1)[0]) if "." in name else None


def _pull_root(name: str, content: bytes, folder: Path, trust: TrustStore,
               result: PullResult) -> None:
    purpose = _trust_purpose(name)
    if purpose is None:
        result.refused.append(f"{name}: a trust update is named <purpose>.<label>.pem, with "
                              "purpose " + ", ".join(p.folder for p in Purpose))
        return
    try:
        root = check_root_update(content, trust, purpose)
        if not is_demo(root):  # a real root is vouched for by a real root only
            check_root_update(content, trust.without_demo_roots(), purpose)
    except WorkshopError as exc:
        result.refused.append(f"{name}: {exc.message}")
        return
    target = folder / purpose.folder / name
    pem = cert_pem(root)
    try:
        if target.read_bytes() == pem:
            result.unchanged += 1
            return
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".incoming-{name}")
    incoming.write_bytes(pem)
    os.replace(incoming, target)
    result.pulled.append(name)


def pull(store: StoreSession, folders: dict[str, Path], trust: TrustStore) -> PullResult:
    """Bring the latest publication of each name into `folders` (by kind; the kinds without
    a folder are not pulled). CRLs and trust updates are verified against `trust`."""
    result = PullResult()
    order = {"trust": 0, "crl": 1}  # trust material first: a new CRL judges what follows
    items = sorted(store.published([k for k in KINDS if k in folders]),
                   key=lambda item: (order.get(item[0], 2), item[0], item[1]))
    merged = False
    for kind, name, sha256, content in items:
        if kind not in order and not merged and result.pulled and "crl" in folders:
            trust, merged = trust.merged(TrustStore.load(folders["crl"])), True
        if not name.endswith(KINDS[kind]) or "/" in name or name.startswith("."):
            result.refused.append(f"{name}: not a {kind} file name")
            continue
        folders[kind].mkdir(parents=True, exist_ok=True)
        if kind == "trust":
            _pull_root(name, content, folders[kind], trust, result)
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
