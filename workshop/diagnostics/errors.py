"""Diagnostics-layer exceptions."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError


class DiagnosticsError(WorkshopError):
    """Vehicle-level diagnostics failed as a whole (not one ECU)."""


class NoEcuAnsweredError(DiagnosticsError):
    """Not one ECU answered: a communication problem, not a vehicle without ECUs."""


class ClearNotVerifiedError(DiagnosticsError):
    """A DTC clear was refused, not answered, or could not be checked by reading again."""
