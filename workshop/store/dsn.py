"""Connection strings: checked, connected, and shown without their password.

A DSN may carry a password (`postgresql://ws:secret@host/db` or `password=secret`); it is never
printed or logged: only `redact()` output leaves this module, and driver messages are scrubbed
of it before they become an error.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from workshop.store.errors import StoreError, StoreUnavailableError

CONNECT_TIMEOUT_S = 5
_HINT_DSN = ("give a libpq connection string, e.g. 'host=store.dealer.example dbname=workshop "
             "user=ws-0042 sslmode=verify-full' (keep passwords in ~/.pgpass, not here)")


def parse(dsn: str) -> dict[str, Any]:
    try:
        return conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise StoreError("the store connection string is not valid", hint=_HINT_DSN) from exc


def redact(dsn: str) -> str:
    """The DSN as it may be shown: the password (if any) replaced by ***."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(invalid connection string)"
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo("", **params)


def scrub(text: str, dsn: str) -> str:
    """A driver message with the DSN's password removed (libpq does not echo it, but a
    message quoting the connection string would)."""
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return text
    return text.replace(str(password), "***") if password else text


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection, or StoreUnavailableError saying what failed and that nothing is lost."""
    parse(dsn)
    try:
        # the connect timeout goes through the conninfo, so a dead host fails in seconds
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=autocommit,
                               application_name="workshop")
    except psycopg.OperationalError as exc:
        first = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else "", dsn)
        refusal = _refusal(exc, first)
        if refusal is not None:
            raise StoreError(f"the central store {redact(dsn)} refused the connection: "
                             f"{first}", hint=refusal) from exc
        raise StoreUnavailableError(
            f"the central store {redact(dsn)} cannot be reached: {first}",
            hint="nothing is lost: the records stay in the local log; check the network, the "
                 "server and the credentials, then run `workshop sync` again") from exc


def _refusal(exc: psycopg.OperationalError, text: str) -> str | None:
    """What to do when the server was reached but refused us (who we are, or TLS), rather
    than being unreachable; None when it is not such a refusal."""
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or "encryption" in lowered:
        return ("the server and this workstation do not agree on TLS: the store requires "
                "TLS with a client certificate from the dealer CA; check sslmode=verify-full, "
                "sslrootcert (the CA that signed the server), sslcert and sslkey (this "
                "workstation's certificate, CN = its role) in the connection string")
    if (exc.sqlstate or "").startswith("28") or "authentication" in lowered:
        return ("the server does not accept these credentials; check the role name and its "
                "password (~/.pgpass) or client certificate, or ask the store's "
                "administrator to enroll this workstation")
    return None


def database_error(exc: psycopg.Error, doing: str, dsn: str) -> StoreError:
    """A StoreError for a failure during a request, the password scrubbed from the message."""
    text = scrub((str(exc).strip().splitlines() or [type(exc).__name__])[0], dsn)
    if isinstance(exc, psycopg.OperationalError):
        return StoreUnavailableError(
            f"the central store went away while {doing}: {text}",
            hint="nothing is lost: what was not committed is sent again by the next sync")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return StoreError(f"the central store refused {doing}: {text}",
                          hint="this database role lacks the right; ask the store's "
                               "administrator to enroll it (`workshop store enroll`)")
    if isinstance(exc, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName):
        return StoreError(f"{redact(dsn)} is not a workshop store ({text})",
                          hint="create it with `workshop store init --dsn ...`")
    return StoreError(f"the central store refused {doing}: {text}",
                      hint="run `workshop store verify` as an auditor, and report it")
