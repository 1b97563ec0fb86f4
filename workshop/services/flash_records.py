"""What a flash may take from the signed audit log, and what it writes there after a crash.

Files beside the log (resume journal, image store index) are written by anyone with the
user's rights, so they only point: the journal names its flash record (`flash_seq`), and
resume applies what that signed record says (package hash, overrides with reasons, DTCs
stored before the flash). Images are used for rollback only when a signed package in the
package store or a signed record (a read-out of the ECU, or a confirmed flash of it) names
their hashes. Intents left without an outcome by a crash are closed here, by asking the ECU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.audit import (
    AuditLog,
    Record,
    SignerStatus,
    default_log_path,
    load_installation,
    workstation_chain_verifier,
)
from workshop.audit.errors import AuditError
from workshop.audit.intents import close_intent, open_intents
from workshop.flash import journal
from workshop.flash.errors import FlashError
from workshop.flash.preflight import read_state
from workshop.foundation.errors import WorkshopError
from workshop.packages import images
from workshop.packages.verify import verify_package
from workshop.services.baseline_check import PACKAGE_SUFFIX, package_store
from workshop.services.connection import VehicleConnection
from workshop.trust.store import TrustStore

# Who may vouch for what a resume applies or a rollback flashes; the demo identity (its
# passphrase is public) only on the simulator.
_TRUSTED = {SignerStatus.CERTIFIED, SignerStatus.UNCERTIFIED}


class AuditRecordError(FlashError):
    """The signed audit record a resume needs is missing, untrusted or disagrees."""


@dataclass(frozen=True)
class SignedLog:
    records: list[Record]  # the records whose signer may vouch (see _TRUSTED)
    problems: list[str]

    def flash_intents(self, vehicle: str) -> dict[int, Record]:
        return {r.seq: r for r in self.records if r.action == "flash"
                and r.details.get("phase") == "intent"
                and _request(r).get("vehicle") == vehicle}


def _request(r: Record) -> Mapping[str, Any]:
    req = r.details.get("request") if isinstance(r.details, Mapping) else None
    return req if isinstance(req, Mapping) else {}


def signed_log(*, simulated: bool, trust_dir: Path | None = None) -> SignedLog:
    """The local log's records, verified; only records of a trusted signer are returned."""
    path = default_log_path()
    if not path.exists():
        return SignedLog([], [])
    try:
        with AuditLog.open(path, None) as log:
            records = list(log.records())
            result = log.check(workstation_chain_verifier(trust_dir),
                               require_installation_head=load_installation() is not None)
    except AuditError as exc:
        return SignedLog([], [exc.message])
    allowed = _TRUSTED | ({SignerStatus.DEMO} if simulated else set())
    wrong = {p.seq for p in result.problems}
    return SignedLog([r for r in records
                      if r.seq not in wrong and result.status_of(r.seq) in allowed],
                     [f"seq {p.seq}: {p.reason}" for p in result.problems])


# -- rollback images --------------------------------------------------------------------------

class RollbackImages:
    """`previous_image` for the plan: the images of (ECU, version), their hashes proven by
    a signed source. `refused` keeps, in words, why an image the index names is not used."""

    def __init__(self, trust: TrustStore, log: Callable[[], SignedLog]) -> None:
        self.trust, self._read_log = trust, log
        self.refused: dict[str, str] = {}
        self._packages: list[tuple[str, Any]] | None = None
        self._log: SignedLog | None = None

    @property
    def log(self) -> SignedLog:
        """Read and verified on first use: a flash of A/B ECUs only never needs it."""
        if self._log is None:
            self._log = self._read_log()
        return self._log

    def _signed_packages(self) -> list[tuple[str, Any]]:
        if self._packages is None:
            self._packages = []
            for path in sorted(package_store().glob(f"*{PACKAGE_SUFFIX}")):
                report = verify_package(path, self.trust, store_images=False)
                if report.package is not None:
                    self._packages.append((path.name, report.package.manifest))
        return self._packages

    def _candidates(self, ecu: str, version: str) -> Iterable[list[images.StoredRegion]]:
        for _name, manifest in self._signed_packages():
            for u in manifest.ecus:
                if u.name == ecu and u.new_version == version:
                    yield [images.StoredRegion(r.image_sha256, r.address, r.length,
                                               r.erase_address, r.erase_length)
                           for r in u.regions]
        for r in reversed(self.log.records):
            if r.ecu != ecu:
                continue
            regions = _record_regions(r, version)
            if regions:
                yield regions

    def __call__(self, ecu: str, version: str) -> list[images.StoredRegion] | None:
        for regions in self._candidates(ecu, version):
            found = images.proven_regions(regions)
            if found:
                return found
        claimed = images.version_images(ecu, version)
        if claimed:
            self.refused[ecu] = (
                f"the image store ({images.store_dir()}) names an image of {version} for "
                f"{ecu} ({claimed[0].sha256[:16]}…) that no signed package in the package "
                "store and no signed audit record vouches for: it is not used (an edited "
                "index or a placed file)")
        return None


def _record_regions(r: Record, version: str) -> list[images.StoredRegion] | None:
    d = r.details
    try:
        if r.action == "flash.readout" and d.get("version") == version:
            return [images.StoredRegion(str(x["sha256"]), int(x["address"]), int(x["length"]),
                                        int(x["address"]), int(x["length"]))
                    for x in d["regions"]]
        result = d.get("result") if r.action == "flash.ecu" else None
        if (isinstance(result, Mapping) and d.get("phase") == "outcome"
                and d.get("outcome") == "success" and result.get("version_after") == version
                and not d.get("found_after_interruption")):
            return [images.StoredRegion(str(x["sha256"]), int(x["address"]), int(x["length"]),
                                        int(x["erase_address"]), int(x["erase_length"]))
                    for x in result["regions"]]
    except (KeyError, TypeError, ValueError):
        return None
    return None


# -- intents a crash left open ----------------------------------------------------------------

def has_open_flash_intents(vehicle: str) -> bool:
    """Read-only look for intents to close (so no key is unlocked when there are none)."""
    path = default_log_path()
    if not path.exists():
        return False
    try:
        with AuditLog.open(path, None) as log:
            return any(r.action == "flash.ecu" or _request(r).get("vehicle") == vehicle
                       for r in open_intents(log.records(), ("flash", "flash.ecu")))
    except AuditError:
        return False


def close_interrupted(conn: VehicleConnection, log: AuditLog, technician: str) -> list[int]:
    """Close this vehicle's flash intents that have no outcome by asking each ECU what it
    runs now; the records say they were found after an interruption. Call only while
    holding the vehicle's flash lock (an intent open in a running flash is not interrupted).
    Returns the seqs closed."""
    records = list(log.records())
    flashes = {r.seq: r for r in records if r.action == "flash"
               and _request(r).get("vehicle") == conn.vehicle.name}
    opened = open_intents(records, ("flash", "flash.ecu"))
    ecu_intents = [r for r in opened if r.action == "flash.ecu"
                   and _request(r).get("flash_seq") in flashes]
    flash_intents = [r for r in opened if r.seq in flashes]
    if not ecu_intents and not flash_intents:
        return []
    try:
        pending = {e.ecu for e in journal.entries(conn.vehicle.name)}
    except WorkshopError:
        pending = set()
    seen: dict[str, dict[str, Any]] = {}

    def ask(ecu: str, wanted: Mapping[str, Any]) -> dict[str, Any]:
        if ecu not in seen:
            seen[ecu] = _found(conn, ecu, wanted, ecu in pending)
        return seen[ecu]

    closed = []
    for r in ecu_intents:
        req = _request(r)
        found = ask(str(r.ecu), req)
        closed.append(close_intent(log, r, found["outcome"], found, technician).seq)
    for r in flash_intents:
        ecus = _request(r).get("ecus")
        results = [ask(name, want) for name, want in ecus.items()] \
            if isinstance(ecus, Mapping) else []
        worst = max((x["outcome"] for x in results), key=_SEVERITY.__getitem__,
                    default="failed")
        closed.append(close_intent(log, r, worst, {"ecus": results}, technician).seq)
    return closed


def settle_finished(conn: VehicleConnection, log: AuditLog, flash: Record, ecu: str,
                    technician: str) -> Record | None:
    """A flash of `ecu` that ended unfinished (its journal is left) turns out finished after
    all, or the ECU runs another version and carries nothing of it: record what the ECU runs
    now against that flash's ECU intent, so that the last word on it is the ECU's. Nothing is
    written when the intent's last outcome already says so."""
    records = list(log.records())
    mine = [r for r in records if r.action == "flash.ecu" and r.ecu == ecu
            and r.details.get("phase") == "intent" and _request(r).get("flash_seq") == flash.seq]
    intent = mine[-1] if mine else flash
    ecus = _request(flash).get("ecus")
    wanted = ecus.get(ecu) if isinstance(ecus, Mapping) else None
    found = _found(conn, ecu, wanted if isinstance(wanted, Mapping) else {}, False)
    last = [r.details.get("outcome") for r in records if r.action == intent.action
            and r.details.get("phase") == "outcome"
            and r.details.get("intent_seq") == intent.seq]
    if last and last[-1] == found["outcome"]:
        return None
    return close_intent(log, intent, found["outcome"], found, technician)


_SEVERITY = {"success": 0, "rolled_back": 1, "refused": 2, "failed": 3, "resumable": 4}


def _found(conn: VehicleConnection, ecu: str, wanted: Mapping[str, Any], journal_left: bool
           ) -> dict[str, Any]:
    target, before = wanted.get("to"), wanted.get("from")
    try:
        state, _ = read_state(conn, conn.vehicle.ecu(ecu))
    except WorkshopError as exc:
        return {"ecu": ecu, "outcome": "resumable", "version_after": None,
                "detail": f"found after an interruption: {exc.message}"}
    if not state.responded:
        outcome, detail = "resumable", f"does not answer ({state.error}); it may be off"
    elif state.in_bootloader:
        outcome, detail = "resumable", "waits in its bootloader: run 'workshop flash resume'"
    elif state.software_version == target:
        outcome, detail = "success", f"runs {target}, the new version"
    elif journal_left:
        outcome, detail = "resumable", (f"runs {state.software_version}, not {target}; "
                                        "'workshop flash resume' finishes the flash")
    else:
        outcome, detail = "failed", (f"runs {state.software_version}"
                                     + (" (unchanged)" if state.software_version == before
                                        else "") + f", not {target}")
    return {"ecu": ecu, "outcome": outcome, "version_after": state.software_version,
            "detail": f"found after an interruption: {ecu} {detail}"}
