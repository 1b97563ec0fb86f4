"""Explicit list of subcommand modules (a frozen build cannot discover them by listing files).

Each module has `register(subparsers)`; each subparser sets `func(args) -> int`.
"""

from __future__ import annotations

from types import ModuleType

from workshop.cli import (
    audit_cmd,
    baseline_cmd,
    describe_cmd,
    diag_cmd,
    flash_cmd,
    identity_cmd,
    live_cmd,
    package_cmd,
    pki_cmd,
    routine_cmd,
    settings_cmd,
    store_cmd,
)

ALL: list[ModuleType] = [diag_cmd, pki_cmd, package_cmd, baseline_cmd, audit_cmd, identity_cmd,
                         flash_cmd, settings_cmd, store_cmd, describe_cmd,
                         live_cmd, routine_cmd]
