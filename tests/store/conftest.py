"""Fixtures: one real PostgreSQL server per session, a fresh store database per test."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.store.pgserver import Server, find_bindir, running_server

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    if find_bindir() is None:
        if os.environ.get("WORKSHOP_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (WORKSHOP_REQUIRE_POSTGRES) but not installed")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with running_server() as server:
        yield server


@pytest.fixture
def store_db(pg_server: Server) -> Iterator[str]:
    """An empty database; yields the owner's DSN. Roles are cluster-wide, so each test names
    its workstations uniquely (see `unique`)."""
    name = f"store_{next(_counter)}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_server.dsn(dbname=name)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:6]
