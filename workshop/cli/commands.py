"""Explicit list of subcommand modules (a frozen build cannot discover them by listing files).

Each module has `register(subparsers)`; each subparser sets `func(args) -> int`.
"""

from __future__ import annotations

from types import ModuleType

from workshop.cli import baseline, package, pki

ALL: list[ModuleType] = [pki, package, baseline]
