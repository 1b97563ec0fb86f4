"""Interrupted flashes: the tool says so, the ECU keeps a state it can recover from, and the
next run finds and finishes the flash."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.flash.helpers import DEMO_ECUS, Update, build, verified
from workshop.flash import journal
from workshop.flash.errors import NothingToResumeError
from workshop.foundation.events import EcuStep
from workshop.services import audit_trail
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, prepare_resume, resumable_flashes, run_flash

SINGLE, AB = "BODY", "ENGINE"


def test_power_loss_mid_transfer_leaves_single_bank_in_bootloader_then_resume(
        demo: VehicleConnection, tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    pkg = build(tmp_path, "new", [Update(SINGLE, size=30000)])
    prep = prepare_flash(demo, pkg, only=[SINGLE], overrides={"rollback": "test"})
    sim.fault(SINGLE).lose_power_after_bytes(12345, off_s=0.3)
    outcome = run_flash(demo, prep).ecus[0]
    assert outcome.outcome == "resumable", outcome.detail
    assert "bootloader" in outcome.detail or "does not answer" in outcome.detail
    sim.fault(SINGLE).powered.wait(5)
    assert not sim.ecus[SINGLE].flash.application_valid()  # erased: it waits in its bootloader

    found = resumable_flashes(demo)
    assert [i.entry.ecu for i in found] == [SINGLE]
    preps = prepare_resume(demo)
    assert preps[0].ready and preps[0].plan is not None and preps[0].plan.ecu(SINGLE).resume
    result = run_flash(demo, preps[0])
    assert result.ecus[0].outcome == "success", result.ecus[0].detail
    assert result.ecus[0].version_before == "1.0.0"  # from the journal, not from the bootloader
    image = verified(pkg).region_image(verified(pkg).manifest.ecu(SINGLE).regions[0])
    assert sim.ecus[SINGLE].flash.active_image(DEMO_ECUS[SINGLE][2], len(image)) == image
    assert journal.entries("demo-car") == []


def test_power_loss_on_ab_keeps_the_old_image_running(demo: VehicleConnection,
                                                      tmp_path: Path) -> None:
    sim = demo.simulator
    assert sim is not None
    old = sim.ecus[AB].flash.active_image(DEMO_ECUS[AB][2], 8192)
    pkg = build(tmp_path, "new", [Update(AB, size=30000)])
    prep = prepare_flash(demo, pkg, only=[AB])
    sim.fault(AB).lose_power_after_bytes(20000, off_s=0.2)
    outcome = run_flash(demo, prep).ecus[0]
    sim.fault(AB).powered.wait(5)
    assert outcome.outcome in ("failed", "resumable"), outcome.detail
    assert sim.ecus[AB].flash.application_valid()
    assert sim.ecus[AB].flash.active_image(DEMO_ECUS[AB][2], 8192) == old


def test_resume_records_a_flash_the_ecu_finished_after_the_tool_lost_it(
        demo: VehicleConnection, tmp_path: Path) -> None:
    """The adapter leaves the bus at the reset: the new image is written and checked, the
    flash ends resumable; an ignition cycle starts the new image. The resume finds the ECU
    on the new version: nothing to flash, and the ECU's word (success, found after the
    interruption) becomes the last record of that flash, not "resumable" for ever (fault
    campaign seed 86, truck)."""
    sim = demo.simulator
    assert sim is not None
    pkg = build(tmp_path, "new", [Update(SINGLE)])
    prep = prepare_flash(demo, pkg, only=[SINGLE], overrides={"rollback": "test"})

    def events(event: object) -> None:
        if isinstance(event, EcuStep) and event.step == "reset":
            sim.bus_off(True)

    outcome = run_flash(demo, prep, events=events).ecus[0]
    sim.bus_off(False)
    assert outcome.outcome == "resumable", outcome.detail
    sim.fault(SINGLE).lose_power(0.0)  # an ignition cycle: at the next request the ECU
    # restarts, from its new image
    image = verified(pkg).region_image(verified(pkg).manifest.ecu(SINGLE).regions[0])
    assert sim.ecus[SINGLE].flash.active_image(DEMO_ECUS[SINGLE][2], len(image)) == image

    with pytest.raises(NothingToResumeError):
        prepare_resume(demo)
    records, _ = audit_trail.recent_records(1000)
    last = [r for r in records if r.action == "flash.ecu" and r.ecu == SINGLE
            and r.details.get("phase") == "outcome"][-1]
    assert last.details["outcome"] == "success", last.details
    assert last.details["found_after_interruption"] is True
    assert journal.entries("demo-car") == []
    with pytest.raises(NothingToResumeError):  # said once, not again at every resume
        prepare_resume(demo)
    again, _ = audit_trail.recent_records(1000)
    assert len(again) == len(records)


def test_resume_without_journal_names_a_silent_ecu_whose_flash_never_ended(
        demo: VehicleConnection, tmp_path: Path) -> None:
    """The journal is gone and the ECU left in its bootloader does not answer when the resume
    asks (busy, or its power not back): the resume must not say that every flash finished
    (fault campaign seed 39 on a loaded machine): the signed record says its flash never
    ended, so it is named as interrupted."""
    sim = demo.simulator
    assert sim is not None
    pkg = build(tmp_path, "new", [Update(SINGLE)])
    prep = prepare_flash(demo, pkg, only=[SINGLE], overrides={"rollback": "test"})
    sim.fault(SINGLE).lose_power_after_bytes(4000, off_s=0.1)
    assert run_flash(demo, prep).ecus[0].outcome == "resumable"
    journal.remove("demo-car", SINGLE)
    sim.fault(SINGLE).stop_answering()
    found = resumable_flashes(demo)
    assert [i.entry.ecu for i in found] == [SINGLE]
    assert "does not answer" in found[0].reason and "journal is missing" in found[0].reason
    preps = prepare_resume(demo)  # a plan that says why it cannot go on, not a traceback
    assert preps[0].plan is not None and not preps[0].ready, preps[0].plan
    sim.fault(SINGLE).resume()  # it answers again: the resume finishes the flash
    result = run_flash(demo, prepare_resume(demo)[0])
    assert result.ecus[0].outcome == "success", result.ecus[0].detail


def test_adapter_off_the_bus_through_the_settle_still_ends_in_the_ecus_outcome(
        demo: VehicleConnection, tmp_path: Path) -> None:
    """The adapter goes bus-off in the download and comes back 2.5 s later, while the
    tool asks the ECU what it runs after the failure: the flash thread kept polling and ends
    in the ECU's outcome and its record (it used to die of the BusOffError, leaving the
    flash without an outcome for the ECU: fault campaign seed 84)."""
    sim = demo.simulator
    assert sim is not None
    pkg = build(tmp_path, "new", [Update(AB)])
    prep = prepare_flash(demo, pkg, only=[AB])
    back = threading.Timer(2.5, sim.bus_off, (False,))

    def events(event: object) -> None:
        if isinstance(event, EcuStep) and event.step.startswith("download"):
            sim.bus_off(True)
            back.start()

    result = run_flash(demo, prep, events=events)
    back.join()
    assert [o.ecu for o in result.ecus] == [AB]
    o = result.ecus[0]
    assert o.outcome == "failed" and o.version_after == "1.0.0", o.detail  # A/B: old bank
    records, _ = audit_trail.recent_records(1000)
    last = [r for r in records if r.action == "flash.ecu" and r.ecu == AB
            and r.details.get("phase") == "outcome"][-1]
    assert last.details["outcome"] == "failed"


# The crash of the tool itself (kill -9 at a step) is tested in test_records.py.
