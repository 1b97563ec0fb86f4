"""Store exceptions: StoreError (refused or unusable), StoreUnavailableError (unreachable)."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError


class StoreError(WorkshopError):
    """The central store refused a request, or is not a workshop store (or not at this version)."""


class StoreUnavailableError(StoreError):
    """The server cannot be reached now: nothing is lost, the next sync sends what waits."""
