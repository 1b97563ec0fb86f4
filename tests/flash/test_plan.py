"""The flash plan is pure: these tests give it ECU states directly, no bus."""

from __future__ import annotations

from pathlib import Path

from tests.flash.helpers import Update, build, verified
from workshop.flash.plan import EcuState, PlanInputs, make_plan
from workshop.packages.baseline import Approved, Baseline
from workshop.packages.images import StoredRegion
from workshop.vehicles import load_vehicle

DEMO = load_vehicle("demo-car")
BASELINE = Baseline("demo-car", "2026.11", "2026-11-01",
                    {n: Approved(("x",), ("1.1.0",)) for n in
                     ("ENGINE", "TRANSMISSION", "ABS", "BODY", "GATEWAY")})


def state(name: str, version: str = "1.0.0", hw: str | None = None, counter: int = 1,
          **kw: object) -> EcuState:
    from tests.flash.helpers import DEMO_ECUS
    return EcuState(name, True, version, hw or DEMO_ECUS[name][1], counter, **kw)  # type: ignore[arg-type]


def inputs(*states: EcuState, **kw: object) -> PlanInputs:
    image = [StoredRegion("ab" * 32, 0, 1, 0, 1)]
    defaults: dict[str, object] = {"baseline": BASELINE,
                                   "previous_image": lambda ecu, v: image}
    defaults.update(kw)
    return PlanInputs(DEMO, {s.name: s for s in states}, **defaults)  # type: ignore[arg-type]


def verdicts(plan_ecu: object) -> dict[str, bool]:
    return {c.name: c.passed for c in plan_ecu.checks}  # type: ignore[attr-defined]


def test_ready_plan_lists_every_check_and_the_canonical_steps(tmp_path: Path) -> None:
    pkg = verified(build(tmp_path, "p", [Update("ENGINE")]))
    plan = make_plan(pkg, inputs(state("ENGINE")))
    assert not plan.blocked, plan.blocking_reasons()
    e = plan.ecu("ENGINE")
    assert set(verdicts(e)) == {"target", "hardware", "version", "anti-rollback", "baseline",
                                "dependencies", "rollback", "transfer"}
    # generated images are random: incompressible, so auto sends them plain ...
    assert e.mode == "plain" and e.wire_bytes == e.image_bytes
    # ... and compressed when that is fewer bytes, since the bootloader declares lz4
    smaller = make_plan(pkg, inputs(state("ENGINE"), compressed_size=lambda d: len(d) // 2))
    assert smaller.ecu("ENGINE").mode == "lz4"
    assert smaller.ecu("ENGINE").wire_bytes == e.image_bytes // 2
    assert e.steps[0] == "extended session" and e.steps[-3:] == [
        "reset", "confirm version", "DTCs caused by programming"]
    assert e.estimate_s > 0


def test_wrong_hardware_downgrade_and_wrong_version_block(tmp_path: Path) -> None:
    pkg = verified(build(tmp_path, "p", [Update("ENGINE", security_version=1)]))
    plan = make_plan(pkg, inputs(state("ENGINE", version="0.9.0", hw="OTHER-HW", counter=2)))
    v = verdicts(plan.ecu("ENGINE"))
    assert v["hardware"] is False and v["anti-rollback"] is False and v["version"] is False
    assert plan.blocked
    reasons = " ".join(plan.blocking_reasons())
    assert "OTHER-HW" in reasons and "downgrade" in reasons


def test_only_overridable_checks_can_be_overridden(tmp_path: Path) -> None:
    pkg = verified(build(tmp_path, "p", [Update("ENGINE")]))
    overrides = {"version": "re-flash the same version after repair",
                 "hardware": "trying to force it"}
    plan = make_plan(pkg, inputs(state("ENGINE", version="1.1.0", hw="OTHER"),
                                 overrides=overrides))
    checks = {c.name: c for c in plan.ecu("ENGINE").checks}
    assert checks["version"].overridden == overrides["version"]
    assert checks["hardware"].overridden is None and checks["hardware"].blocks
    assert plan.blocked
    assert plan.overrides() == {"ENGINE.version": overrides["version"]}


def test_delta_only_on_ab_ecus_whose_version_is_the_base(tmp_path: Path) -> None:
    old = build(tmp_path / "old", "old", [Update("ENGINE", version="1.0.0", security_version=1),
                                          Update("BODY", version="1.0.0", security_version=1)])
    verified(old)  # fills the image store with the base images
    new = verified(build(tmp_path / "new", "new", [Update("ENGINE"), Update("BODY")],
                         delta_from=old))
    plan = make_plan(new, inputs(state("ENGINE"), state("BODY")))
    assert plan.ecu("ENGINE").mode == "bsdiff4"
    assert plan.ecu("BODY").mode == "plain"  # rebuilt from the base image, sent whole
    forced = make_plan(new, inputs(state("ENGINE"), state("BODY"), mode="bsdiff4"))
    body = {c.name: c for c in forced.ecu("BODY").checks}["transfer"]
    assert not body.passed and "single-bank" in body.detail
    other = make_plan(new, inputs(state("ENGINE", version="0.9.0"), mode="bsdiff4",
                                  only=["ENGINE"], overrides={"version": "test"}))
    assert "applies to 1.0.0" in {c.name: c for c in other.ecu("ENGINE").checks}[
        "transfer"].detail


def test_dependencies_order_waves_and_block_when_left_out(tmp_path: Path) -> None:
    pkg = verified(build(tmp_path, "p", [Update("GATEWAY"), Update("ABS"),
                                         Update("ENGINE", depends_on=["GATEWAY"])]))
    states = (state("GATEWAY"), state("ABS"), state("ENGINE"))
    plan = make_plan(pkg, inputs(*states))
    assert plan.waves == [["GATEWAY", "ABS"], ["ENGINE"]]
    alone = make_plan(pkg, inputs(*states, only=["ENGINE"]))
    assert alone.blocked and "GATEWAY must be at 1.1.0 first" in " ".join(
        alone.blocking_reasons())


def test_single_bank_without_previous_image_says_so_before_flashing(tmp_path: Path) -> None:
    pkg = verified(build(tmp_path, "p", [Update("BODY")]))
    plan = make_plan(pkg, inputs(state("BODY"), previous_image=lambda ecu, v: None))
    check = {c.name: c for c in plan.ecu("BODY").checks}["rollback"]
    assert not check.passed and check.overridable and plan.ecu("BODY").rollback is None
    assert "could not be rolled back" in check.detail


def test_package_for_another_vehicle_or_unanswering_ecu_blocks(tmp_path: Path) -> None:
    pkg = verified(build(tmp_path, "p", [Update("ENGINE")], models='["truck"]'))
    assert "not for vehicle model demo-car" in make_plan(
        pkg, inputs(state("ENGINE"))).problems[0]
    pkg = verified(build(tmp_path / "b", "p", [Update("ENGINE")]))
    silent = make_plan(pkg, inputs(EcuState("ENGINE", False, error="no answer")))
    assert {c.name: c.passed for c in silent.ecu("ENGINE").checks}["target"] is False
