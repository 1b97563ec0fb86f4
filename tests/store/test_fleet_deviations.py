"""`fleet deviations`: the last known software of each ECU (newest of its last successful
flash and its last scan identification) against the published baseline of its vehicle model
(verified before it counts)."""

from __future__ import annotations

from pathlib import Path

from tests.store.helpers import PASSWORD, role_dsn, workstation
from workshop.audit import AuditLog, AuditSigner
from workshop.packages.baseline import load_baseline
from workshop.services import fleet
from workshop.services.baseline_check import baseline_store, ensure_demo_material
from workshop.services.connection import VehicleConnection
from workshop.services.diagnose import record_identification, scan
from workshop.services.sync import sync_log
from workshop.services.trust_policy import trust_store
from workshop.store.admin import enroll
from workshop.store.migrations import init_store
from workshop.store.session import StoreSession
from workshop.transport.adapters import AdapterConfig


def _flash(log: Path, who: AuditSigner, vin: str, ecu: str, before: str, after: str,
           outcome: str = "success", dtcs: tuple[str, ...] = ()) -> None:
    """The records a flash writes (their shape as workshop.flash writes them)."""
    with AuditLog.open(log, who) as opened:
        opened.append("flash", vin=vin, ecu="*", technician="t", details={
            "phase": "intent", "request": {"vehicle": "demo-car", "ecus": {
                ecu: {"from": before, "to": after}}, "dtcs_before": {ecu: list(dtcs)}}})
        opened.append("flash.ecu", vin=vin, ecu=ecu, technician="t", details={
            "phase": "outcome", "outcome": outcome, "result": {
                "version_before": before, "version_after": after if outcome == "success"
                else before}})


def test_deviations_name_the_vehicles_outside_the_baseline(store_db: str, unique: str,
                                                           tmp_path: Path) -> None:
    init_store(store_db)
    a, a_dsn = workstation(store_db, f"ws-a-{unique}")
    b, b_dsn = workstation(store_db, f"ws-b-{unique}")
    _flash(tmp_path / "a.db", a, "VIN00000000000001", "ENGINE", "1.0.0", "1.1.0")
    _flash(tmp_path / "a.db", a, "VIN00000000000002", "ENGINE", "1.0.0", "1.0.5",
           dtcs=("P030100",))
    _flash(tmp_path / "b.db", b, "VIN00000000000003", "ABS", "1.0.0", "1.1.0")
    _flash(tmp_path / "b.db", b, "VIN00000000000003", "ABS", "1.1.0", "0.9.0",  # downgrade
           dtcs=("C003500", "C004100"))
    sync_log(a_dsn, tmp_path / "a.db", lambda: a)
    sync_log(b_dsn, tmp_path / "b.db", lambda: b)
    trust = trust_store(AdapterConfig())
    assert fleet.deviations(store_db, trust) == ([], ["demo-car"])  # no baseline yet
    ensure_demo_material("demo-car")
    signed = next(baseline_store().glob("*.baseline"))
    enroll(store_db, "publisher", f"pub-{unique}", password=PASSWORD)
    with StoreSession(role_dsn(store_db, f"pub-{unique}")) as publisher:
        publisher.publish("baseline", "forged.baseline",
                          signed.read_bytes().replace(b"1.1.0", b"1.0.5"))
    assert fleet.deviations(store_db, trust)[0] == []  # a forged baseline does not count
    with StoreSession(role_dsn(store_db, f"pub-{unique}")) as publisher:
        publisher.publish("baseline", signed.name, signed.read_bytes())
    found, unknown = fleet.deviations(store_db, trust)
    assert unknown == []
    assert sorted((d.vin, d.ecu, d.version, d.workstation) for d in found) == [
        ("VIN00000000000002", "ENGINE", "1.0.5", a.workstation),
        ("VIN00000000000003", "ABS", "0.9.0", b.workstation)]
    # each answer names its record: the flash outcome that wrote that version
    for d in found:
        entry = next(e for e in fleet.vin_history(store_db, d.vin)
                     if (e.log, e.record.seq) == (d.log, d.seq))
        assert entry.record.action == "flash.ecu" and entry.record.ecu == d.ecu
        assert entry.record.details["result"]["version_after"] == d.version
    # what the shipped baseline approves (ENGINE also 1.2.0, for the powertrain package)
    assert {d.ecu: d.approved for d in found} == {"ENGINE": ("1.1.0", "1.2.0"),
                                                  "ABS": ("1.1.0",)}


def test_dtc_frequency_by_ecu_and_version(store_db: str, unique: str, tmp_path: Path) -> None:
    init_store(store_db)
    a, a_dsn = workstation(store_db, f"ws-a-{unique}")
    for vin in ("VIN00000000000011", "VIN00000000000012"):
        _flash(tmp_path / "a.db", a, vin, "ABS", "1.1.0", "1.2.0", dtcs=("C003500",))
    _flash(tmp_path / "a.db", a, "VIN00000000000013", "ABS", "1.0.0", "1.2.0",
           dtcs=("C003500", "C004100"))
    _flash(tmp_path / "a.db", a, "VIN00000000000013", "ENGINE", "1.0.0", "1.1.0")
    sync_log(a_dsn, tmp_path / "a.db", lambda: a)
    counts = [(c.ecu, c.version, c.dtc, c.vehicles) for c in fleet.dtc_frequency(store_db)]
    assert counts == [("ABS", "1.1.0", "C003500", 2), ("ABS", "1.0.0", "C003500", 1),
                      ("ABS", "1.0.0", "C004100", 1)]


def test_last_known_software_is_the_newest_of_flash_and_scan(
        store_db: str, unique: str, tmp_path: Path, demo: VehicleConnection) -> None:
    init_store(store_db)
    a, a_dsn = workstation(store_db, f"ws-a-{unique}")
    log = tmp_path / "a.db"
    scanned = scan(demo)  # the simulated demo car over CAN/ISO-TP/UDS
    vin = scanned.vin
    assert vin is not None
    versions = {e.name: e.identity.software_version for e in scanned.ecus
                if e.identity.software_version}
    assert "ENGINE" in versions
    _flash(log, a, vin, "ENGINE", "1.0.0", "6.6.6")  # an older flash, outside any baseline
    ensure_demo_material("demo-car")
    signed = next(baseline_store().glob("*.baseline"))
    enroll(store_db, "publisher", f"pub-{unique}", password=PASSWORD)
    with StoreSession(role_dsn(store_db, f"pub-{unique}")) as publisher:
        publisher.publish("baseline", signed.name, signed.read_bytes())
    sync_log(a_dsn, log, lambda: a)
    trust = trust_store(AdapterConfig())
    before = {d.ecu: d for d in fleet.deviations(store_db, trust)[0] if d.vin == vin}
    assert before["ENGINE"].version == "6.6.6" and before["ENGINE"].source == "flash"

    with AuditLog.open(log, a) as opened:
        seq = record_identification(scanned, opened)
    assert seq is not None
    sync_log(a_dsn, log, lambda: a)
    after = {d.ecu: d for d in fleet.deviations(store_db, trust)[0] if d.vin == vin}
    approved = load_baseline(signed, trust).ecus
    for ecu, version in versions.items():
        allowed = approved[ecu].software_versions if ecu in approved else ()
        if version in allowed:
            assert ecu not in after  # the scan shows approved software: no deviation
        else:
            assert (after[ecu].version, after[ecu].source) == (version, "scan")
    # a newer flash wins over the scan again
    _flash(log, a, vin, "ENGINE", versions["ENGINE"], "0.0.1")
    sync_log(a_dsn, log, lambda: a)
    last = {d.ecu: d for d in fleet.deviations(store_db, trust)[0] if d.vin == vin}
    assert (last["ENGINE"].version, last["ENGINE"].source) == ("0.0.1", "flash")
