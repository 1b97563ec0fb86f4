"""DTC memory survives a new simulator instance; `sim reset` restores factory state."""

from __future__ import annotations

import json

import pytest

from tests.conftest import open_vehicle
from workshop.cli import main
from workshop.services.audit_trail import open_audit_log
from workshop.services.diagnose import clear_all


def dtcs_by_ecu(conn) -> dict[str, set[str]]:
    out = {}
    for ecu in conn.vehicle.ecus:
        with conn.client(ecu.name) as c:
            out[ecu.name] = {d.code for d in c.read_dtcs(details=False)}
    return out


def test_clear_persists_and_sim_reset_restores(capsys: pytest.CaptureFixture[str]) -> None:
    conn = open_vehicle("demo-car")
    try:
        factory = dtcs_by_ecu(conn)
        with open_audit_log(simulated=True) as log:
            assert all(r.ok for r in clear_all(conn, log))
    finally:
        conn.close()
    present = {e.name: {d.code for d in e.dtcs if d.present} for e in conn.vehicle.ecus}
    conn = open_vehicle("demo-car")
    try:
        assert dtcs_by_ecu(conn) == present
    finally:
        conn.close()
    assert main(["sim", "reset", "--json"]) == 0
    json.loads(capsys.readouterr().out)
    conn = open_vehicle("demo-car")
    try:
        assert dtcs_by_ecu(conn) == factory
    finally:
        conn.close()
