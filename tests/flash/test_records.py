"""Honest records and a resume that cannot be steered from outside (issue 17, items 4-7):
outcome records are the ECU's outcome, resume takes what it applies from the signed audit
record, rollback images need a signed proof, one flash per vehicle, and a crash of the tool
(kill -9) leaves no intent open for ever. All over the real stack on the simulator."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import open_vehicle
from tests.flash.helpers import DEMO_ECUS, Update, build, verified
from tests.integration.test_cli import run_cli
from workshop.audit import AuditLog, default_log_path
from workshop.flash.errors import NothingToResumeError
from workshop.flash.executor import package_sha256
from workshop.flash.journal import JournalError, journal_dir
from workshop.flash.lock import FlashBusyError
from workshop.packages import images
from workshop.packages.build import build_package
from workshop.packages.descriptor import embed_descriptor
from workshop.packages.firmware import generate_image
from workshop.services.audit_trail import verify_log
from workshop.services.baseline_check import package_store
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, prepare_resume, run_flash
from workshop.services.flash_records import AuditRecordError
from workshop.services.flash_resume import StrandedEcuError
from workshop.trust.demo import demo_signer

SINGLE = "BODY"


@pytest.fixture
def without_factory_packages(tmp_path_factory: pytest.TempPathFactory,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo material without the factory-*-1.0.0 packages: no signed source proves the
    1.0.0 image of a single-bank ECU (what these tests are about)."""
    from workshop.foundation.paths import resources_dir
    from workshop.services import baseline_check
    shipped = resources_dir()
    fake = tmp_path_factory.mktemp("resources")
    (fake / "packages").mkdir()
    for spec in (shipped / "packages").glob("*.toml"):
        if not spec.name.startswith("factory-"):
            shutil.copy(spec, fake / "packages" / spec.name)
    (fake / "baselines").symlink_to(shipped / "baselines")
    monkeypatch.setattr(baseline_check, "resources_dir", lambda: fake)
STORED_DTC = "B100113"  # stored in BODY before any flash (demo-car.toml)
ROOT = Path(__file__).resolve().parents[2]


def records() -> list[Any]:
    with AuditLog.open(default_log_path(), None) as log:
        return list(log.records())


def last_outcomes() -> dict[tuple[str, str | None], dict[str, Any]]:
    """The last outcome record of each (action, ECU) of the flash brackets."""
    found = {}
    for r in records():
        if r.action in ("flash", "flash.ecu") and r.details.get("phase") == "outcome":
            found[(r.action, r.ecu)] = dict(r.details)
    return found


def dtcs(conn: VehicleConnection, ecu: str) -> list[str]:
    with conn.client(ecu) as client:
        return [d.code for d in client.read_dtcs(details=False)]


def stale_package(folder: Path) -> Path:
    """Says 1.1.0, but its image carries the 1.0.0 descriptor: after a good download the
    ECU keeps reporting 1.0.0, as an ECU whose bootloader does not start the new image."""
    folder.mkdir(parents=True, exist_ok=True)
    start = DEMO_ECUS[SINGLE][2]
    (folder / "img.bin").write_bytes(embed_descriptor(generate_image("stale", 8192), "1.0.0", 2))
    (folder / "stale.toml").write_text("\n".join([
        "[package]", 'id = "stale"', 'version = "1"', 'release_notes = "test"',
        'vehicle_models = ["demo-car"]', 'expires = "2099-01-01T00:00:00+00:00"', "",
        "[[ecu]]", f'name = "{SINGLE}"', f"address = 0x{DEMO_ECUS[SINGLE][0]:X}",
        f'hardware_part_numbers = ["{DEMO_ECUS[SINGLE][1]}"]', 'from_versions = ["1.0.0"]',
        'new_version = "1.1.0"', "security_version = 2", 'check_memory = "crc32"', "",
        "[[ecu.region]]", 'file = "img.bin"', f"load_address = 0x{start:X}", ""]))
    out = folder / "stale.wspkg"
    build_package(folder / "stale.toml", out, demo_signer())
    return out


def interrupt_by_power_cut(conn: VehicleConnection, pkg: Path, after: int = 12345) -> None:
    sim = conn.simulator
    assert sim is not None
    prep = prepare_flash(conn, pkg, only=[SINGLE], overrides={"rollback": "test"})
    sim.fault(SINGLE).lose_power_after_bytes(after, off_s=0.3)
    assert run_flash(conn, prep).ecus[0].outcome == "resumable"
    assert sim.fault(SINGLE).powered.wait(5)


@pytest.mark.usefixtures("without_factory_packages")
def test_unconfirmed_version_is_recorded_as_such_and_ends_failed_after_one_retry(
        demo: VehicleConnection, tmp_path: Path) -> None:
    pkg = stale_package(tmp_path)
    prep = prepare_flash(demo, pkg, only=[SINGLE], overrides={"rollback": "test"})
    first = run_flash(demo, prep).ecus[0]
    assert first.outcome == "resumable", first.detail
    assert first.version_after == "1.0.0"
    out = last_outcomes()
    # the record says what the ECU says: not "success"
    assert out[("flash", "*")]["outcome"] == "resumable"
    assert out[("flash.ecu", SINGLE)]["outcome"] == "resumable"

    (again,) = prepare_resume(demo)
    second = run_flash(demo, again).ecus[0]
    assert second.outcome == "failed", second.detail
    assert "after one retry" in second.detail and "1.0.0" in second.detail
    out = last_outcomes()
    assert out[("flash", "*")]["outcome"] == "failed"
    assert out[("flash.ecu", SINGLE)]["outcome"] == "failed"
    with pytest.raises(NothingToResumeError):  # no endless resume loop
        prepare_resume(demo)


def test_pre_flash_dtcs_survive_two_interruptions(demo: VehicleConnection,
                                                   tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    assert STORED_DTC in dtcs(demo, SINGLE)
    pkg = build(tmp_path, "new", [Update(SINGLE, size=30000)])
    interrupt_by_power_cut(demo, pkg)
    original = next(r.seq for r in records() if r.action == "flash"
                    and r.details.get("phase") == "intent")
    (resume,) = prepare_resume(demo)  # the first resume is cut too
    assert resume.dtcs_before[SINGLE] == [STORED_DTC]
    sim.fault(SINGLE).lose_power_after_bytes(5000, off_s=0.3)
    assert run_flash(demo, resume).ecus[0].outcome == "resumable"
    assert sim.fault(SINGLE).powered.wait(5)

    (resume,) = prepare_resume(demo)
    assert resume.dtcs_before[SINGLE] == [STORED_DTC]  # from the signed records, twice over
    result = run_flash(demo, resume)
    assert result.ok, result.to_json()
    assert STORED_DTC in dtcs(demo, SINGLE)
    intents = [r for r in records() if r.action == "flash"
               and r.details.get("phase") == "intent"]
    assert intents[1].details["request"]["resume_of"] == {SINGLE: original}
    assert intents[2].details["request"]["dtcs_before"] == {SINGLE: [STORED_DTC]}


@pytest.mark.usefixtures("without_factory_packages")
def test_edited_journal_is_refused_and_a_lost_one_is_found_from_the_record(
        demo: VehicleConnection, tmp_path: Path) -> None:
    pkg = build(tmp_path / "new", "new", [Update(SINGLE, size=30000)])
    interrupt_by_power_cut(demo, pkg)
    path = journal_dir("demo-car") / f"{SINGLE}.json"
    honest = path.read_text()
    evil = build(tmp_path / "evil", "evil", [Update(SINGLE, size=30000)])
    doc = json.loads(honest)
    doc.update(package_path=str(evil), package_sha256=package_sha256(str(evil)))
    doc["overrides"]["hardware"] = "never given by the technician"
    path.write_text(json.dumps(doc))
    with pytest.raises(AuditRecordError, match="disagrees with the signed audit record") as exc:
        prepare_resume(demo)
    assert "package_sha256" in exc.value.message and "overrides" in exc.value.message

    doc = json.loads(honest)
    doc["flash_seq"] = "7"
    path.write_text(json.dumps(doc))
    with pytest.raises(JournalError, match="'flash_seq' has the wrong type"):
        prepare_resume(demo)

    path.unlink()  # a lost journal: the ECU in its bootloader is still found
    (resume,) = prepare_resume(demo)
    assert resume.plan is not None and resume.plan.ecu(SINGLE).resume
    assert resume.package_sha256 == package_sha256(str(pkg))
    assert resume.plan.overrides() == {f"{SINGLE}.rollback": "test"}
    result = run_flash(demo, resume)
    assert result.ok, result.to_json()


def test_ecu_stranded_in_its_bootloader_without_any_record_is_named(
        demo: VehicleConnection, tmp_path: Path) -> None:
    """Erased by someone else (another tool): no journal, no record of this tool."""
    pkg = build(tmp_path, "new", [Update(SINGLE)])
    prep = prepare_flash(demo, pkg, only=[SINGLE], overrides={"rollback": "test"})
    assert prep.plan is not None
    e = prep.plan.ecu(SINGLE)
    from workshop.flash.codec import erase_args, fingerprint
    with demo.client(SINGLE) as ecu:
        ecu.change_session(3)
        ecu.change_session(2)
        ecu.unlock(e.profile.security_level)
        ecu.write_did(e.profile.fingerprint_did, fingerprint("other tool", "00" * 32))
        ecu.routine(e.profile.erase.id, 1, erase_args(e.profile.erase, e.definition,
                                                      e.update.regions[0]))
    with pytest.raises(StrandedEcuError, match=f"{SINGLE} of demo-car sit") as exc:
        prepare_resume(demo)
    assert exc.value.hint is not None and f"--ecu {SINGLE}" in exc.value.hint
    cli = run_cli(tmp_path, "flash", "resume")  # never "all finished", exit 0
    assert cli.returncode != 0 and "Traceback" not in cli.stderr
    assert f"{SINGLE} of demo-car sit(s) in the bootloader" in cli.stdout + cli.stderr


def test_symlinked_journal_folder_refuses_the_flash_before_any_write(
        demo: VehicleConnection, tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = journal_dir("demo-car")
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    writes = sim.ecus[SINGLE].flash.write_count
    pkg = build(tmp_path / "p", "new", [Update(SINGLE)])
    prep = prepare_flash(demo, pkg, only=[SINGLE], overrides={"rollback": "test"})
    o = run_flash(demo, prep).ecus[0]
    assert o.outcome == "refused" and "symbolic link" in o.detail, o.detail
    assert sim.ecus[SINGLE].flash.write_count == writes
    assert last_outcomes()[("flash", "*")]["outcome"] == "refused"
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(JournalError, match="symbolic link"):
        prepare_resume(demo)
    cli = run_cli(tmp_path, "flash", "resume")
    assert cli.returncode != 0 and "Traceback" not in cli.stderr
    assert "is a symbolic link, not a folder" in cli.stdout + cli.stderr


@pytest.mark.usefixtures("without_factory_packages")
def test_rollback_image_needs_a_signed_package_or_record(demo: VehicleConnection,
                                                          tmp_path: Path) -> None:
    start = DEMO_ECUS[SINGLE][2]
    placed = b"unsigned code" * 700
    sha = images.put_image(placed)  # a file placed in the store, named in the index
    images.remember_version(SINGLE, "1.0.0",
                            [images.StoredRegion(sha, start, len(placed), start, 8192)])
    pkg = build(tmp_path / "new", "new", [Update(SINGLE)])

    def rollback_check() -> tuple[bool, str, list[images.StoredRegion] | None]:
        prep = prepare_flash(demo, pkg, only=[SINGLE])
        assert prep.plan is not None
        e = prep.plan.ecu(SINGLE)
        check = next(c for c in e.checks if c.name == "rollback")
        return check.passed, check.detail, e.rollback_images

    passed, detail, used = rollback_check()
    assert not passed and used is None
    assert "no signed package" in detail and "not used" in detail

    old = build(tmp_path / "old", "old", [Update(SINGLE, version="1.0.0", security_version=1)])
    verified(old)  # its image is in the store now, but the package is not in the store
    passed, _, _ = rollback_check()
    assert not passed
    shutil.copy(old, package_store() / old.name)  # a signed package the tool verifies
    images.remember_version(SINGLE, "1.0.0",  # and the index edited again to the placed file
                            [images.StoredRegion(sha, start, len(placed), start, 8192)])
    passed, _, used = rollback_check()
    real = verified(old).manifest.ecu(SINGLE).regions[0].image_sha256
    assert passed and used is not None and [r.sha256 for r in used] == [real]


def test_readout_record_vouches_for_a_rollback_image(demo: VehicleConnection,
                                                     tmp_path: Path) -> None:
    """The read-out another helper adds writes `flash.readout`; its hashes prove an image."""
    start = DEMO_ECUS[SINGLE][2]
    sim = demo.simulator
    assert sim is not None
    image = sim.ecus[SINGLE].flash.active_image(start, 8192)
    sha = images.put_image(image)
    from workshop.services.audit_trail import open_audit_log
    with open_audit_log(simulated=True) as log:
        log.append("flash.readout", vin=None, ecu=SINGLE, technician="t", details={
            "version": "1.0.0", "verified": "checksum routine",
            "regions": [{"address": start, "length": len(image), "sha256": sha}]})
    prep = prepare_flash(demo, build(tmp_path, "new", [Update(SINGLE)]), only=[SINGLE])
    assert prep.plan is not None
    assert [r.sha256 for r in prep.plan.ecu(SINGLE).rollback_images or []] == [sha]


LOCK_CHILD = """
import threading
from workshop.flash.lock import vehicle_flash_lock
with vehicle_flash_lock("demo-car", technician="first-tech", what="flash pkg-a"):
    print("locked", flush=True)
    threading.Event().wait()
"""


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            text=True, env=env)


def test_one_flash_per_vehicle_across_processes(demo: VehicleConnection,
                                               tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    pkg = build(tmp_path, "new", [Update(SINGLE)])
    prep = prepare_flash(demo, pkg, only=[SINGLE], overrides={"rollback": "test"})
    child = _child(LOCK_CHILD)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        writes = sim.ecus[SINGLE].flash.write_count
        with pytest.raises(FlashBusyError) as exc:
            run_flash(demo, prep)
        assert f"process {child.pid}" in exc.value.message
        assert "first-tech" in exc.value.message and "flash pkg-a" in exc.value.message
        assert sim.ecus[SINGLE].flash.write_count == writes
        with pytest.raises(FlashBusyError):  # its ECU is in the bootloader on purpose
            prepare_resume(demo)
    finally:
        child.send_signal(signal.SIGKILL)  # a crashed holder: the OS drops its lock
        child.wait(timeout=30)
    assert run_flash(demo, prep).ok


FLASH_CHILD = """
import sys, threading
from pathlib import Path
from workshop.foundation.events import EcuStep
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.transport.adapters import AdapterConfig
from workshop.vehicles import load_vehicle

pkg, ecu, at = sys.argv[1:4]

def events(event):
    if isinstance(event, EcuStep) and event.step.startswith(at):
        print("at", event.step, flush=True)
        threading.Event().wait()  # until kill -9

with VehicleConnection(AdapterConfig(channel="killed"), load_vehicle("demo-car")) as conn:
    prep = prepare_flash(conn, Path(pkg), only=[ecu],
                         overrides={"rollback": "test", "baseline": "test"})
    run_flash(conn, prep, events=events)
print("finished", flush=True)
"""


def _flash_and_kill(pkg: Path, at: str) -> None:
    child = _child(FLASH_CHILD, str(pkg), SINGLE, at)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith(f"at {at}")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)


def test_kill_9_leaves_no_intent_open_and_the_next_run_says_what_the_ecu_runs(
        tmp_path: Path) -> None:
    pkg = build(tmp_path / "a", "a", [Update(SINGLE, size=30000)])
    _flash_and_kill(pkg, "download")  # erased: the ECU waits in its bootloader
    left = verify_log()
    assert left.ok, left.problems
    assert {(i.action, i.ecu) for i in left.open_intents} == {("flash", "*"), ("flash.ecu",
                                                                                SINGLE)}
    cli = run_cli(tmp_path, "audit", "verify")
    assert cli.returncode == 0 and "2 intent(s) without an outcome" in cli.stdout, cli.stdout
    conn = open_vehicle("demo-car")  # the next run, as a new process would open it
    try:
        (resume,) = prepare_resume(conn)
        closed = last_outcomes()
        for key in (("flash", "*"), ("flash.ecu", SINGLE)):
            assert closed[key]["outcome"] == "resumable"
            assert closed[key]["found_after_interruption"] is True
        assert resume.dtcs_before[SINGLE] == [STORED_DTC]
        result = run_flash(conn, resume)
        assert result.ok, result.to_json()
        assert STORED_DTC in dtcs(conn, SINGLE)
    finally:
        conn.close()
    assert verify_log().open_intents == []

    newer = build(tmp_path / "b", "b", [Update(SINGLE, version="1.2.0", security_version=3,
                                               from_versions=["1.1.0"])])
    _flash_and_kill(newer, "confirm version")  # reset done: the ECU starts 1.2.0
    conn = open_vehicle("demo-car")
    try:
        with pytest.raises(NothingToResumeError):
            prepare_resume(conn)
    finally:
        conn.close()
    closed = last_outcomes()
    assert closed[("flash.ecu", SINGLE)]["outcome"] == "success"
    assert closed[("flash.ecu", SINGLE)]["result"]["version_after"] == "1.2.0"
    assert closed[("flash", "*")]["found_after_interruption"] is True
    assert verify_log().open_intents == []
