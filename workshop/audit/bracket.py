"""Bracket every vehicle-changing action with an intent record and an outcome record."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from workshop.audit.records import Record
from workshop.audit.store import AuditLog


@dataclass
class Intent:
    """Yielded inside the bracket; fill `result` with details for the outcome record, and
    `outcome` with what really happened when the body knows better than "it did not raise"
    (a flash that ended without the ECU confirming the new version is not a success)."""

    record: Record
    result: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None


@contextmanager
def intent_and_outcome(log: AuditLog, action: str, *, vin: str | None, ecu: str | None,
                       technician: str, details: Mapping[str, Any] | None = None
                       ) -> Iterator[Intent]:
    """Write the intent record (durable) before the body runs; write the outcome after.

    If the intent cannot be written, AuditError propagates and the body never runs. The
    outcome records `intent.outcome` (default "success"), or failure with the error text
    when the body raised, and the error is re-raised.
    """
    intent = Intent(log.append(action, vin=vin, ecu=ecu, technician=technician,
                               details={"phase": "intent", "request": dict(details or {})}))
    outcome: dict[str, Any] = {"phase": "outcome", "intent_seq": intent.record.seq}
    try:
        yield intent
    except BaseException as exc:
        outcome.update(outcome=intent.outcome or "failure",
                       error=f"{type(exc).__name__}: {exc}", result=intent.result)
        log.append(action, vin=vin, ecu=ecu, technician=technician, details=outcome)
        raise
    outcome.update(outcome=intent.outcome or "success", result=intent.result)
    log.append(action, vin=vin, ecu=ecu, technician=technician, details=outcome)
