"""Fault campaign over the three bootloader families of the van (VAG-like ECM, PSA-like BSI,
31 03 polling ADAS on CAN FD): the same faults and the same verdicts as
tools/fault_campaign.py (bricked, verdict != ECU truth, audit records lost), each family
flashed through its profile alone.

Run: python tools/family_campaign.py [--seeds N] [--first S]   (prints the figures)
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.flash.test_families import VAN, package  # noqa: E402
from tools.fault_campaign import CONSISTENT, FAULTS, _audit_ok, inject  # noqa: E402
from workshop.flash.errors import NothingToResumeError  # noqa: E402
from workshop.packages.verify import open_verified  # noqa: E402
from workshop.services import trust_policy  # noqa: E402
from workshop.services.connection import VehicleConnection  # noqa: E402
from workshop.services.flash import prepare_flash, prepare_resume, run_flash  # noqa: E402
from workshop.transport.adapters import AdapterConfig  # noqa: E402
from workshop.vehicles import load_vehicle  # noqa: E402


def fresh_vehicle_state() -> None:
    from workshop.audit.identity import audit_dir
    from workshop.flash.journal import journal_dir
    from workshop.simulator.state import reset_state

    reset_state("van")
    shutil.rmtree(journal_dir("van"), ignore_errors=True)
    shutil.rmtree(audit_dir(), ignore_errors=True)


def truth(conn: VehicleConnection, ecu: str, new: bytes) -> str:
    """'new', 'old' (the factory 1.0.0), 'boot' (no valid application) or 'other'."""
    assert conn.simulator is not None
    s = conn.simulator.ecus[ecu]
    if not s.flash.application_valid():
        return "boot"
    if s.flash.active_image(VAN[ecu][2], len(new)) == new:
        return "new"
    return "old" if s.flash.version() == "1.0.0" else "other"


def run_case(seed: int, folder: Path, packages: dict[str, Path]) -> tuple[str, bool, bool,
                                                                         bool, str]:
    """(case, bricked, verdict wrong, audit lost, detail) for one seed."""
    fresh_vehicle_state()
    rng = random.Random(seed)
    ecu = list(VAN)[seed % len(VAN)]
    fault = FAULTS[(seed // len(VAN)) % len(FAULTS)]
    p = open_verified(packages[ecu], trust_policy.trust_store(AdapterConfig(), None))
    new = p.region_image(p.manifest.ecus[0].regions[0])
    vehicle = folder / "van.toml"
    vehicle.write_text((ROOT / "resources" / "vehicles" / "van.toml").read_text()
                       .replace("latency_ms = [2, 6]", "latency_ms = [1, 2]", 1))
    resumed = None
    with VehicleConnection(AdapterConfig(channel=f"family-{uuid.uuid4()}"),
                           load_vehicle(vehicle)) as conn:
        prep = prepare_flash(conn, packages[ecu], overrides={"rollback": "fault campaign",
                                                             "baseline": "fault campaign"})
        assert prep.plan is not None and prep.ready, prep.plan and prep.plan.blocking_reasons()
        helper = inject(conn, ecu, fault, rng, prep.plan.ecu(ecu).wire_bytes)
        o = run_flash(conn, prep).ecus[0]
        if helper is not None:
            helper.done()
        sim = conn.simulator
        assert sim is not None
        sim.fault(ecu).clear()
        sim.bus_off(False)
        sim.fault(ecu).powered.wait(5)
        seen = final = truth(conn, ecu, new)
        wrong = seen not in CONSISTENT[o.outcome]
        if o.outcome == "resumable":
            try:
                results = [run_flash(conn, q) for q in prepare_resume(conn)]
                resumed = results[0].ecus[0].outcome if results[0].ecus else "none"
            except NothingToResumeError:
                resumed = "nothing to resume"
            final = truth(conn, ecu, new)
            wrong = wrong or (resumed == "success") != (final == "new")
    case = f"{ecu}/{fault}/{o.outcome}" + (f"->{resumed}" if resumed else "")
    return (case, final not in ("new", "old"), wrong, not _audit_ok(),
            f"{o.outcome}: {o.detail}"[:160])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=42)
    ap.add_argument("--first", type=int, default=0)
    args = ap.parse_args()
    logging.disable(logging.ERROR)  # udsoncan logs every NRC and timeout
    home = tempfile.TemporaryDirectory()
    os.environ["WORKSHOP_HOME"] = home.name
    counts: Counter[str] = Counter()
    bad = Counter[str]()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        packages = {}
        for ecu in VAN:
            (folder / ecu).mkdir()
            packages[ecu] = package(folder / ecu, ecu, "sha256" if ecu == "ADAS" else "crc32")
        for seed in range(args.first, args.first + args.seeds):
            case, bricked, wrong, lost, detail = run_case(seed, folder, packages)
            counts[case] += 1
            for name, hit in (("bricked", bricked), ("verdict != ECU truth", wrong),
                              ("audit records lost", lost)):
                if hit:
                    bad[name] += 1
                    print(f"seed {seed}: {name}: {case}: {detail}", flush=True)
    home.cleanup()
    print(f"{args.seeds} runs in {time.monotonic() - started:.0f} s")
    for key, n in sorted(counts.items()):
        print(f"  {key:<45} {n}")
    for name in ("bricked", "verdict != ECU truth", "audit records lost"):
        print(f"{name}: {bad[name]}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
