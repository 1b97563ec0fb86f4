"""Intents without an outcome: what a crash (kill -9, power cut of the laptop) leaves in the
log. They are found here and closed by whoever can ask the vehicle what really happened."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from workshop.audit.records import Record

if TYPE_CHECKING:  # the store imports verification, which lists open intents from here
    from workshop.audit.store import AuditLog

# Actions bracketed by intent_and_outcome whose intents must all be closed.
BRACKETED = ("flash", "flash.ecu", "dtc.clear")


def open_intents(records: Iterable[Record], actions: Iterable[str] = BRACKETED
                 ) -> list[Record]:
    """Intent records of `actions` that no outcome record names (by intent_seq)."""
    wanted = set(actions)
    intents: dict[int, Record] = {}
    closed: set[int] = set()
    for r in records:
        if not isinstance(r.action, str) or r.action not in wanted \
                or not isinstance(r.details, Mapping):
            continue
        phase = r.details.get("phase")
        if phase == "intent":
            intents[r.seq] = r
        elif phase == "outcome" and isinstance(r.details.get("intent_seq"), int):
            closed.add(r.details["intent_seq"])
    return [r for seq, r in sorted(intents.items()) if seq not in closed]


def close_intent(log: AuditLog, intent: Record, outcome: str, result: Mapping[str, Any],
                 technician: str) -> Record:
    """The outcome of an interrupted action, as found afterwards (by asking the ECU); the
    record says so, so nobody takes it for what the interrupted run itself saw."""
    return log.append(intent.action, vin=intent.vin, ecu=intent.ecu, technician=technician,
                      details={"phase": "outcome", "intent_seq": intent.seq,
                               "outcome": outcome, "found_after_interruption": True,
                               "result": dict(result)})
