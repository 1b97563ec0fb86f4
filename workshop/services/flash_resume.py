"""Find and finish interrupted flashes, steered only by the signed audit log.

The journal says which ECU was being flashed and points at the signed intent record of that
flash; everything resume applies (package path and hash, overrides and their reasons, the
DTCs stored before the flash) is taken from that record, and a journal that disagrees with it
is refused. Every ECU of the vehicle is also asked whether it sits in its bootloader, so an
ECU whose journal was lost is still found: finished from its signed record when there is
one, otherwise named with what the technician can do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop.audit import Record
from workshop.flash import codec, journal
from workshop.flash.errors import FlashError, NothingToResumeError
from workshop.flash.executor import package_sha256
from workshop.flash.lock import vehicle_flash_lock
from workshop.flash.plan import EcuState
from workshop.flash.preflight import read_state
from workshop.foundation.errors import ConfigError
from workshop.services.audit_trail import open_audit_log, technician
from workshop.services.connection import VehicleConnection
from workshop.services.flash_records import (
    AuditRecordError,
    SignedLog,
    close_interrupted,
    has_open_flash_intents,
    signed_log,
)
from workshop.services.identity import PassphraseSource, terminal_passphrase
from workshop.vehicles.flash_profile import FlashProfile

if TYPE_CHECKING:
    from workshop.services.flash import FlashPreparation


class StrandedEcuError(FlashError):
    """An ECU waits in its bootloader and no signed record says which flash left it there."""


@dataclass(frozen=True)
class Interrupted:
    entry: journal.JournalEntry
    reason: str
    record: Record | None = None  # the signed intent of the interrupted flash


def _request(r: Record) -> Mapping[str, Any]:
    req = r.details.get("request")
    return req if isinstance(req, Mapping) else {}


def _record_overrides(req: Mapping[str, Any], ecu: str) -> dict[str, str]:
    given = req.get("overrides")
    return {k.partition(".")[2]: str(v) for k, v in (given or {}).items()
            if isinstance(k, str) and k.startswith(f"{ecu}.")} if isinstance(given, Mapping) \
        else {}


def _signed_intent(entry: journal.JournalEntry, intents: Mapping[int, Record]) -> Record:
    """The signed flash intent the journal points at, when they agree in every field."""
    where = journal.journal_dir(entry.vehicle) / f"{entry.ecu}.json"
    hint = (f"the journal was edited or damaged: move {where} aside and run 'workshop flash "
            "resume' again; an ECU left in its bootloader is then found and finished from the "
            "signed audit record alone")
    if entry.flash_seq is None:
        raise AuditRecordError(f"the flash journal of {entry.ecu} names no audit record of "
                               "its flash: refusing to resume from an unsigned file", hint=hint)
    record = intents.get(entry.flash_seq)
    if record is None:
        raise AuditRecordError(f"the flash journal of {entry.ecu} names audit record "
                               f"{entry.flash_seq}, which is no signed flash of "
                               f"{entry.vehicle} in the audit log", hint=hint)
    req = _request(record)
    ecus = req.get("ecus")
    mine = ecus.get(entry.ecu) if isinstance(ecus, Mapping) else None
    wanted = {"package_sha256": req.get("package_sha256"),
              "package_path": req.get("package_path"), "package_id": req.get("package"),
              "new_version": mine.get("to") if isinstance(mine, Mapping) else None,
              "version_before": mine.get("from") if isinstance(mine, Mapping) else None,
              "overrides": _record_overrides(req, entry.ecu)}
    differ = [name for name, value in wanted.items() if getattr(entry, name) != value]
    if mine is None:
        differ.insert(0, "ecu")
    if differ:
        raise AuditRecordError(
            f"the flash journal of {entry.ecu} disagrees with the signed audit record of its "
            f"flash (seq {record.seq}) in {', '.join(differ)}: refusing to resume from it",
            hint=hint)
    return record


def _reason(state: EcuState, entry: journal.JournalEntry, profile: FlashProfile) -> str | None:
    ours = codec.carries_package(state.fingerprint, profile, entry.package_sha256)
    if state.in_bootloader:
        return "the ECU waits in its bootloader"
    if ours and state.software_version != entry.new_version:
        return (f"the ECU carries this flash's fingerprint and still runs "
                f"{state.software_version}")
    if not state.responded:
        return f"the ECU does not answer ({state.error}); it may be without power"
    return None


def _entry_from_record(record: Record, ecu: str) -> journal.JournalEntry | None:
    req = _request(record)
    ecus = req.get("ecus")
    mine = ecus.get(ecu) if isinstance(ecus, Mapping) else None
    try:
        assert isinstance(mine, Mapping)
        return journal.JournalEntry(
            str(req["vehicle"]), ecu, str(req["package_path"]), str(req["package_sha256"]),
            str(req["package"]), mine.get("from"), str(mine["to"]), "", "programming",
            record.time, _record_overrides(req, ecu), record.seq)
    except (AssertionError, KeyError, TypeError):
        return None


def resumable_flashes(conn: VehicleConnection, *, log: SignedLog | None = None
                      ) -> list[Interrupted]:
    """Flashes this tool started on this vehicle and did not finish, confirmed by the ECU:
    in its bootloader, or carrying our fingerprint without the new version. Raises
    JournalError / AuditRecordError for a journal that cannot be trusted, StrandedEcuError
    for an ECU in its bootloader that no signed record explains."""
    signed = log or signed_log(simulated=conn.adapter.is_simulated)
    if signed.problems:
        raise AuditRecordError(
            "the audit log does not verify, and resume takes what it applies from it: "
            + "; ".join(signed.problems[:3]),
            hint="run 'workshop audit verify'; keep the log as evidence and move it aside: an "
                 "ECU left in its bootloader is then named, to be flashed with its package")
    intents = signed.flash_intents(conn.vehicle.name)
    names = {e.name for e in conn.vehicle.ecus}
    found = []
    entries = [e for e in journal.entries(conn.vehicle.name) if e.ecu in names]
    records = {e.ecu: _signed_intent(e, intents) for e in entries}  # all checked, then asked
    for entry in entries:
        definition = conn.vehicle.ecu(entry.ecu)
        state, _ = read_state(conn, definition)
        reason = _reason(state, entry, definition.flash)
        if reason is None:
            journal.remove(conn.vehicle.name, entry.ecu)  # finished after all, or replaced
        else:
            found.append(Interrupted(entry, reason, records[entry.ecu]))
    stranded: list[str] = []
    for definition in conn.vehicle.ecus:
        if definition.name in records:
            continue
        state, _ = read_state(conn, definition)
        if not state.in_bootloader:
            continue
        last = max((r for r in intents.values()
                    if definition.name in (_request(r).get("ecus") or {})),
                   key=lambda r: r.seq, default=None)
        from_record = _entry_from_record(last, definition.name) if last else None
        if from_record is None:
            stranded.append(definition.name)
            continue
        found.append(Interrupted(from_record, "the ECU waits in its bootloader; its journal is "
                                        f"missing, the signed record of its flash (seq "
                                        f"{from_record.flash_seq}) names the package", last))
    if stranded:
        raise StrandedEcuError(
            f"{', '.join(stranded)} of {conn.vehicle.name} sit(s) in the bootloader with no "
            "valid application, and no signed record of this tool says which flash left it "
            "there: resume cannot know what to write",
            hint=f"flash it with the package meant for it: 'workshop flash PACKAGE --ecu "
                 f"{stranded[0]} --override version=\"<why>\"' (the plan checks the package "
                 "against the ECU's hardware); the vehicle stays undrivable until then")
    return found


def prepare_resume(conn: VehicleConnection, *, trust_dir: Path | None = None,
                   baseline_path: Path | None = None,
                   ask: PassphraseSource = terminal_passphrase) -> list[FlashPreparation]:
    """One preparation per interrupted package, each limited to its interrupted ECUs, with
    the overrides and pre-flash DTCs of the signed record of the interrupted flash."""
    from workshop.services.flash import prepare_flash  # services.flash re-exports this module

    who = technician()
    # held while the journals are read and judged: a flash running in another process keeps
    # its ECU in the bootloader on purpose, and must not be taken for an interrupted one
    with vehicle_flash_lock(conn.vehicle.name, technician=who, what="flash resume"):
        if has_open_flash_intents(conn.vehicle.name):  # a crashed run's intents: closed
            with open_audit_log(simulated=conn.adapter.is_simulated, ask=ask) as log:
                close_interrupted(conn, log, who)
        pending = resumable_flashes(conn, log=signed_log(simulated=conn.adapter.is_simulated,
                                                         trust_dir=trust_dir))
    if not pending:
        raise NothingToResumeError(f"no interrupted flash on {conn.vehicle.name}",
                                   hint="every flash this tool started here has finished")
    by_package: dict[tuple[str, str], list[Interrupted]] = {}
    for item in pending:
        key = (item.entry.package_path, item.entry.package_sha256)
        by_package.setdefault(key, []).append(item)
    preps = []
    for (path, sha), items in by_package.items():
        try:
            same = Path(path).is_file() and package_sha256(path) == sha
        except OSError:
            same = False
        if not same:
            raise ConfigError(f"the package of the interrupted flash ({path}) is gone or "
                              "changed", hint="put the same package file back, then resume")
        overrides = {f"{i.entry.ecu}.{check}": reason for i in items
                     for check, reason in i.entry.overrides.items()}
        prep = prepare_flash(
            conn, Path(path), trust_dir=trust_dir, baseline_path=baseline_path,
            only=[i.entry.ecu for i in items], overrides=overrides,
            resumable={i.entry.ecu: (i.reason, i.entry.version_before) for i in items})
        for i in items:  # what was stored before the first attempt, however many since
            if i.record is not None:
                before = _request(i.record).get("dtcs_before")
                codes = before.get(i.entry.ecu) if isinstance(before, Mapping) else None
                prep.dtcs_before[i.entry.ecu] = (list(map(str, codes))
                                                 if isinstance(codes, list) else None)
                prep.resume_of[i.entry.ecu] = i.record.seq
        preps.append(prep)
    return preps


__all__ = ["Interrupted", "StrandedEcuError", "prepare_resume",
           "resumable_flashes"]
