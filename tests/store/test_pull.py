"""Pulling published baselines and packages: verified before they are put in place; a file
that fails verification is refused and the copy in place stays."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.store.helpers import PASSWORD, role_dsn, workstation
from workshop.services.baseline_check import baseline_store, ensure_demo_material, package_store
from workshop.services.pull import pull
from workshop.services.trust_policy import trust_store
from workshop.store.admin import enroll
from workshop.store.migrations import init_store
from workshop.store.session import StoreSession
from workshop.transport.adapters import AdapterConfig


def test_pull_verifies_before_use_and_keeps_the_old_copy(store_db: str, unique: str,
                                                         tmp_path: Path) -> None:
    init_store(store_db)
    ensure_demo_material("demo-car")  # a baseline signed by the demo PKI, as a publisher has
    signed = next(baseline_store().glob("*.baseline"))
    good = signed.read_bytes()
    enroll(store_db, "publisher", f"pub-{unique}", password=PASSWORD)
    _, ws_dsn = workstation(store_db, f"ws-{unique}")
    forged = good.replace(b"1.1.0", b"6.6.6")
    assert forged != good
    with StoreSession(role_dsn(store_db, f"pub-{unique}")) as publisher:
        assert publisher.publish("baseline", signed.name, good)
        assert not publisher.publish("baseline", signed.name, good)  # same content: once
        assert publisher.publish("baseline", "forged.baseline", forged)
    pulled = tmp_path / "other-workstation"
    folders = {"baseline": pulled / "baselines", "package": pulled / "packages"}
    for f in folders.values():
        f.mkdir(parents=True)
    trust = trust_store(AdapterConfig())
    with StoreSession(ws_dsn) as ws:
        first = pull(ws, folders, trust)
        assert first.pulled == [signed.name]
        assert len(first.refused) == 1 and first.refused[0].startswith("forged.baseline")
        assert not (folders["baseline"] / "forged.baseline").exists()
        assert sorted(p.name for p in folders["baseline"].iterdir()) == [signed.name]
        # a later publication of the same name that does not verify: the old copy stays
        with StoreSession(role_dsn(store_db, f"pub-{unique}")) as publisher:
            publisher.publish("baseline", signed.name, forged)
        second = pull(ws, folders, trust)
        assert second.pulled == [] and len(second.refused) == 2
        assert (folders["baseline"] / signed.name).read_bytes() == good
    # a workstation cannot publish
    with psycopg.connect(ws_dsn) as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO workshop.published (kind, name, content) VALUES "
                     "('baseline', 'x.baseline', 'x')")


def test_a_pulled_package_that_fails_verification_is_refused_and_the_old_stays(
        store_db: str, unique: str, tmp_path: Path) -> None:
    init_store(store_db)
    ensure_demo_material("demo-car")
    signed = sorted(package_store().glob("*.wspkg"))[0]
    good = signed.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte in the signed content
    enroll(store_db, "publisher", f"pub-{unique}", password=PASSWORD)
    _, ws_dsn = workstation(store_db, f"ws-{unique}")
    folders = {"baseline": tmp_path / "b", "package": tmp_path / "p"}
    for f in folders.values():
        f.mkdir()
    trust = trust_store(AdapterConfig())
    with StoreSession(role_dsn(store_db, f"pub-{unique}")) as publisher:
        publisher.publish("package", signed.name, good)
    with StoreSession(ws_dsn) as ws:
        assert pull(ws, folders, trust).pulled == [signed.name]
        with StoreSession(role_dsn(store_db, f"pub-{unique}")) as publisher:
            publisher.publish("package", signed.name, bytes(damaged))
        again = pull(ws, folders, trust)
    assert again.pulled == [] and len(again.refused) == 1
    assert again.refused[0].startswith(f"{signed.name}: ")
    assert (folders["package"] / signed.name).read_bytes() == good
    assert sorted(p.name for p in folders["package"].iterdir()) == [signed.name]
