"""Flash every ECU type of demo-car over the real stack and compare the ECU's memory with the
package image byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.flash.helpers import DEMO_ECUS, Update, build, verified
from workshop.services.baseline_check import package_store
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash

AB, SINGLE = "ENGINE", "BODY"


def image_of(pkg: Path, ecu: str) -> bytes:
    p = verified(pkg)
    return p.region_image(p.manifest.ecu(ecu).regions[0])


def flash(conn: VehicleConnection, pkg: Path, ecu: str, mode: str = "auto",
          **overrides: str) -> object:
    prep = prepare_flash(conn, pkg, only=[ecu], mode=mode,
                         overrides={"rollback": "test", **overrides})
    assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
    result = run_flash(conn, prep)
    return result.ecus[0]


@pytest.mark.parametrize(("ecu", "mode"), [(AB, "plain"), (AB, "lz4"), (AB, "bsdiff4"),
                                           (SINGLE, "plain"), (SINGLE, "lz4"),
                                           ("GATEWAY", "bsdiff4"), ("ABS", "lz4")])
def test_flash_writes_the_package_image(demo: VehicleConnection, tmp_path: Path, ecu: str,
                                        mode: str) -> None:
    old = build(tmp_path / "old", "old", [Update(ecu, version="1.0.0", security_version=1)])
    verified(old)  # the image store learns 1.0.0 (delta base, rollback image)
    pkg = build(tmp_path / "new", "new", [Update(ecu, size=20000)],
                delta_from=old if mode == "bsdiff4" else None)
    sim = demo.simulator
    assert sim is not None
    assert sim.ecus[ecu].flash.version() == "1.0.0"
    outcome = flash(demo, pkg, ecu, mode)
    assert outcome.outcome == "success", outcome.detail  # type: ignore[attr-defined]
    assert outcome.mode == mode and outcome.version_after == "1.1.0"  # type: ignore[attr-defined]
    image = image_of(pkg, ecu)
    memory = sim.ecus[ecu].flash
    assert memory.application_valid()
    assert memory.active_image(DEMO_ECUS[ecu][2], len(image)) == image
    if mode == "bsdiff4":  # the patch crossed the bus, the ECU rebuilt the image from it
        patch = verified(pkg).manifest.ecu(ecu).regions[0].delta
        assert patch is not None
        assert outcome.wire_bytes == patch.payload.size  # type: ignore[attr-defined]


def test_refused_packages_never_write(demo: VehicleConnection, tmp_path: Path) -> None:
    """Wrong ECU hardware, a downgrade and an unsigned package: refused before any write."""
    sim = demo.simulator
    assert sim is not None
    before = {n: e.flash.write_count for n, e in sim.ecus.items()}
    wrong_hw = build(tmp_path / "hw", "hw", [Update(AB, hardware="OTHER-HW-999")])
    prep = prepare_flash(demo, wrong_hw)
    assert not prep.ready and "OTHER-HW-999" in " ".join(prep.plan.blocking_reasons())  # type: ignore[union-attr]
    downgrade = build(tmp_path / "down", "down", [Update(AB, security_version=0)])
    prep = prepare_flash(demo, downgrade)
    assert not prep.ready and "downgrade" in " ".join(prep.plan.blocking_reasons())  # type: ignore[union-attr]
    unsigned = tmp_path / "unsigned.wspkg"
    data = bytearray(build(tmp_path / "u", "u", [Update(AB)]).read_bytes())
    data[data.index(b"signature") + 40] ^= 0xFF  # inside the signature entry
    unsigned.write_bytes(bytes(data))
    prep = prepare_flash(demo, unsigned)
    assert prep.plan is None and not prep.report.ok
    assert {n: e.flash.write_count for n, e in sim.ecus.items()} == before


def test_failed_confirmation_rolls_back_ab_to_the_previous_bank(demo: VehicleConnection,
                                                                 tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    old_image = sim.ecus[AB].flash.active_image(DEMO_ECUS[AB][2], 8192)
    pkg = build(tmp_path, "new", [Update(AB)])
    sim.fault(AB).fail_next_boot()
    outcome = flash(demo, pkg, AB)
    assert outcome.outcome == "rolled_back", outcome.detail  # type: ignore[attr-defined]
    assert outcome.version_after == "1.0.0"  # type: ignore[attr-defined]
    assert "previous bank" in outcome.detail  # type: ignore[attr-defined]
    assert sim.ecus[AB].flash.active_image(DEMO_ECUS[AB][2], 8192) == old_image


def test_failed_confirmation_reflashes_single_bank_from_the_image_store(
        demo: VehicleConnection, tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    old = build(tmp_path / "old", "old", [Update(SINGLE, version="1.0.0", security_version=1)])
    verified(old)
    # a rollback image counts only when a signed package in the package store vouches for it
    shutil.copy(old, package_store() / old.name)
    old_image = image_of(old, SINGLE)
    assert sim.ecus[SINGLE].flash.active_image(DEMO_ECUS[SINGLE][2], 8192) == old_image
    pkg = build(tmp_path / "new", "new", [Update(SINGLE)])
    prep = prepare_flash(demo, pkg, only=[SINGLE])
    assert prep.plan is not None and prep.plan.ecu(SINGLE).rollback == "image store"
    sim.fault(SINGLE).fail_next_boot()
    outcome = run_flash(demo, prep).ecus[0]
    assert outcome.outcome == "rolled_back", outcome.detail
    assert sim.ecus[SINGLE].flash.application_valid()
    assert sim.ecus[SINGLE].flash.active_image(DEMO_ECUS[SINGLE][2], 8192) == old_image


def test_dependencies_first_and_independent_ecus_in_one_wave(demo: VehicleConnection,
                                                              tmp_path: Path) -> None:
    pkg = build(tmp_path, "multi", [Update("GATEWAY"), Update("ABS"),
                                    Update("ENGINE", depends_on=["GATEWAY"])])
    prep = prepare_flash(demo, pkg, overrides={"rollback": "test"})
    assert prep.plan is not None and prep.plan.waves == [["GATEWAY", "ABS"], ["ENGINE"]]
    result = run_flash(demo, prep)
    assert [(o.ecu, o.outcome) for o in result.ecus] == [
        ("GATEWAY", "success"), ("ABS", "success"), ("ENGINE", "success")]
    assert result.ok


def test_failed_dependency_keeps_its_dependants_unchanged(demo: VehicleConnection,
                                                          tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    pkg = build(tmp_path, "multi", [Update("GATEWAY"), Update("ENGINE", depends_on=["GATEWAY"])])
    prep = prepare_flash(demo, pkg, overrides={"rollback": "test"})
    engine_writes = sim.ecus["ENGINE"].flash.write_count
    sim.fault("GATEWAY").answer_with_nrc(0x34, 0x70, times=1)
    result = run_flash(demo, prep)
    outcomes = {o.ecu: o for o in result.ecus}
    assert outcomes["GATEWAY"].outcome == "failed"
    assert "NRC 0x70" in outcomes["GATEWAY"].detail
    assert outcomes["ENGINE"].outcome == "refused"
    assert sim.ecus["ENGINE"].flash.write_count == engine_writes
    assert not result.ok


def test_preconditions_not_met_refuse_before_any_write(demo: VehicleConnection,
                                                       tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    sim.fault(SINGLE).set_conditions(speed_kmh=30, battery_mv=11000)
    pkg = build(tmp_path, "p", [Update(SINGLE)])
    writes = sim.ecus[SINGLE].flash.write_count
    outcome = flash(demo, pkg, SINGLE)
    assert outcome.outcome == "refused"  # type: ignore[attr-defined]
    assert "battery voltage" in outcome.detail and "vehicle speed" in outcome.detail  # type: ignore[attr-defined]
    assert sim.ecus[SINGLE].flash.write_count == writes
