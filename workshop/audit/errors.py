"""Audit exceptions: AuditError (unusable log or file), AuditTamperedError (tampering)."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError


class AuditError(WorkshopError):
    """The audit log or an export cannot be opened, read or written (input/config problem)."""


class AuditTamperedError(AuditError):
    """Verification failed: record `seq` is wrong for `reason`."""

    def __init__(self, seq: int, reason: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"audit record seq {seq}: {reason}",
            hint=hint or "the audit log was altered; keep the file as evidence and report it",
        )
        self.seq = seq
        self.reason = reason
