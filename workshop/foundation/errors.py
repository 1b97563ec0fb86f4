"""Root of the exception tree; each layer derives its own `<Layer>Error` from it."""

from __future__ import annotations


class WorkshopError(Exception):
    """A failure the technician should read: what went wrong and what to do next."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  -> {self.hint}" if self.hint else self.message


class ConfigError(WorkshopError):
    """A configuration or definition file is missing or malformed."""


class CancelledError(WorkshopError):
    """Long work was cancelled by the user at a safe point."""


class LockTimeoutError(WorkshopError):
    """A file that only one process may change at a time stayed locked by another one."""
