"""TLS to the store with client certificates, on a real PostgreSQL set up as a dealer group
would: `hostssl ... cert` (the certificate's CN is the role), no plain `host` line. One TLS
server for this module (a start-up is slow)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.store.helpers import signer, write
from tests.store.pgserver import Server, find_bindir, running_server
from tests.store.tlsca import ThrowawayCa
from workshop.services.sync import sync_log
from workshop.store import StoreError, StoreUnavailableError
from workshop.store.admin import enroll
from workshop.store.migrations import init_store
from workshop.store.session import StoreSession


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Server]:
    if find_bindir() is None:
        if os.environ.get("WORKSHOP_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (WORKSHOP_REQUIRE_POSTGRES) but not installed")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with running_server(tls=True) as server:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE store")
        init_store(server.dsn(dbname="store"))
        yield server


def _dsn(server: Server, user: str, *, cert: tuple[Path, Path] | None = None,
         sslmode: str = "verify-full", rootcert: Path | None = None) -> str:
    assert server.ca is not None
    dsn = (f"host=127.0.0.1 port={server.port} dbname=store user={user} sslmode={sslmode} "
           f"sslrootcert={rootcert or server.ca.cert_file}")
    if cert:
        dsn += f" sslcert={cert[0]} sslkey={cert[1]}"
    return dsn


def test_a_workstation_with_its_certificate_pushes_over_verified_tls(
        tls_server: Server, unique: str, tmp_path: Path) -> None:
    assert tls_server.ca is not None
    name = f"ws-tls-{unique}"
    enroll(tls_server.dsn(dbname="store"), "workstation", name)  # no password: cert only
    dsn = _dsn(tls_server, name, cert=tls_server.ca.issue(tmp_path / "ws", name))
    with StoreSession(dsn) as store:
        assert store.role() == name
        row = store.conn.execute("SELECT ssl, client_dn FROM pg_stat_ssl "
                                 "WHERE pid = pg_backend_pid()").fetchone()
        assert row is not None and row[0] is True and name in str(row[1])
    who = signer(name)
    write(tmp_path / "audit.db", who, 3)
    result = sync_log(dsn, tmp_path / "audit.db", lambda: who)
    assert (result.pushed, result.head_seq, result.alarm) == (3, 3, None)


def test_no_certificate_another_cas_certificate_or_plain_text_are_refused_in_words(
        tls_server: Server, unique: str, tmp_path: Path) -> None:
    assert tls_server.ca is not None
    name = f"ws-tls-{unique}"
    enroll(tls_server.dsn(dbname="store"), "workstation", name)
    other_ca = ThrowawayCa.create(tmp_path / "other-ca", "Another Dealer CA")
    attempts = {
        "no certificate": _dsn(tls_server, name),
        "another CA's certificate": _dsn(tls_server, name,
                                         cert=other_ca.issue(tmp_path / "o", name)),
        "someone else's name": _dsn(tls_server, name, cert=tls_server.ca.issue(
            tmp_path / "x", f"ws-other-{unique}")),
        "plain text": (f"host=127.0.0.1 port={tls_server.port} dbname=store user={name} "
                       "sslmode=disable"),
        "a server from another CA": _dsn(tls_server, name, rootcert=other_ca.cert_file,
                                         cert=tls_server.ca.issue(tmp_path / "ok", name)),
    }
    for what, dsn in attempts.items():
        with pytest.raises(StoreError) as err:
            StoreSession(dsn)
        message = err.value.message
        assert not isinstance(err.value, StoreUnavailableError), (what, message)
        assert "refused the connection" in message, (what, message)
        hint = err.value.hint or ""
        assert "sslmode=verify-full" in hint or "credentials" in hint, (what, hint)
    # what the server said, for the record: certificate required; no TLS, no entry
    with pytest.raises(StoreError, match="certificate"):
        StoreSession(attempts["no certificate"])
    with pytest.raises(StoreError, match="no encryption"):
        StoreSession(attempts["plain text"])
