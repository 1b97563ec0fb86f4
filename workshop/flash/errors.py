"""Errors of the flash layer."""

from workshop.foundation.errors import WorkshopError


class FlashError(WorkshopError):
    pass


class PlanBlockedError(FlashError):
    """The plan has a failed check that is not overridden: nothing was written."""


class NothingToResumeError(FlashError):
    pass


class StepError(WorkshopError):
    """A step that did not do what it must (routine status not 0, wrong version...)."""
