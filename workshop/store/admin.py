"""Enrolling database roles: a workstation, a publisher or an auditor (run by the owner).

A workstation's role is named exactly as its workstation id (the CN of its certificate): the
row-level security policies compare the records' signed `workstation` with `session_user`,
and PostgreSQL's `cert` authentication requires the client certificate's CN to be the role
name, so with client certificates the dealer CA's word decides who may write which rows.
"""

from __future__ import annotations

from typing import Literal

import psycopg
from psycopg import sql

from workshop.store.dsn import connect, database_error
from workshop.store.errors import StoreError
from workshop.store.migrations import AUDITOR_ROLE, PUBLISHER_ROLE, WORKSTATION_ROLE

Kind = Literal["workstation", "publisher", "auditor"]
GROUPS: dict[str, str] = {"workstation": WORKSTATION_ROLE, "publisher": PUBLISHER_ROLE,
                          "auditor": AUDITOR_ROLE}


def enroll(dsn: str, kind: Kind, name: str, *, password: str | None = None) -> bool:
    """Create login role `name` (if missing) in the group for `kind`; returns True if created.

    Without a password the role authenticates as pg_hba.conf says (client certificate,
    peer...); the password, when given, is sent as a parameter and never shown.
    """
    if kind not in GROUPS:
        raise StoreError(f"unknown role kind {kind!r}", hint="workstation, publisher or auditor")
    if not name or len(name) > 63 or not name.isprintable():
        raise StoreError(f"{name!r} cannot be a database role name",
                         hint="use the workstation id (certificate CN), at most 63 characters")
    if name.startswith(("pg_", "workshop_")):
        raise StoreError(f"{name!r} is a reserved role name", hint="choose another name")
    with connect(dsn, autocommit=True) as conn:
        try:
            with conn.transaction():
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                      (name,)).fetchone() is not None
                role = sql.Identifier(name)
                if not exists:
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
                if password is not None:
                    # the password travels as a literal built client-side by psycopg's quoting
                    conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        role, sql.Literal(password)))
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(GROUPS[kind]),
                                                              role))
            return not exists
        except psycopg.Error as exc:
            raise database_error(exc, f"enrolling the {kind} role", dsn) from exc
