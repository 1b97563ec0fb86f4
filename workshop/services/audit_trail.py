"""The audit log as the use cases see it: who is working, and the log to bracket actions in."""

from __future__ import annotations

import getpass
import os

from workshop.audit import AuditLog, default_log_path, load_or_create_workstation_identity


def technician() -> str:
    """The technician named in audit records: $WORKSHOP_TECHNICIAN, else the OS user."""
    return os.environ.get("WORKSHOP_TECHNICIAN") or getpass.getuser()


def open_audit_log() -> AuditLog:
    return AuditLog.open(default_log_path(), load_or_create_workstation_identity())
