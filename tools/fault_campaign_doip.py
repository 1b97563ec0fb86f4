"""The fault campaign's DoIP cases: flashes over `sim-doip` (the simulated vehicle behind its
DoIP gateway on loopback) with a gateway fault: a TCP reset at the nth message of a service
(a cable pulled, a gateway that drops the tester), a gateway restart at a step of the ECU's
step list (every connection dropped), and slow answers (each ECU answer held back). The
families are ECUs behind the gateway on CAN (demo-car ENGINE and BODY, the van's PSA-like
BSI) and an ECU on the vehicle's Ethernet served by the gateway itself (HEADUNIT, 64 KiB
blocks). An interrupted flash is resumed as a technician would: a new connection (a new
command), `flash resume`, again while it says resumable. The figures are the CAN campaign's.

Run: python tools/fault_campaign.py --doip [--seeds N] [--first S]
"""

from __future__ import annotations

import dataclasses
import random
import threading
import uuid
from pathlib import Path

from tests.integration.vehicles import ETHERNET_HEADUNIT
from tools.fault_campaign import (
    CONSISTENT,
    OVERRIDES,
    RESUMES,
    CaseResult,
    Family,
    _audit_ok,
    _intents_open,
    _last_ecu_outcome,
    _settled,
    bench_vehicle,
    fresh_vehicle_state,
    make_target,
    resume_all,
)
from workshop.foundation.events import EcuStep
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.simulator.flash_memory import FACTORY_IMAGE_SIZE
from workshop.transport.adapters import SIM_DOIP, AdapterConfig
from workshop.vehicles import load_vehicle

DOIP_FAMILIES = (
    Family("ENGINE behind the gateway (A/B)", "demo-car", "ENGINE", ("plain", "lz4", "bsdiff4")),
    Family("BODY behind the gateway", "demo-car", "BODY", ("plain", "lz4")),
    Family("van BSI behind the gateway", "van", "BSI", ("plain",), "van-bsi-1.1.0"),
    Family("HEADUNIT on Ethernet (64 KiB)", "demo-car", "HEADUNIT", ("plain", "lz4"),
           size=320 * 1024),
)
DOIP_KINDS = ("tcp_reset", "gateway_restart", "slow_answers")
# services a flash sends, and how many of each a reset may wait for (TransferData: blocks)
RESET_SIDS = (0x10, 0x27, 0x31, 0x34, 0x36, 0x36, 0x36, 0x37, 0x11, 0x22)


def doip_vehicle(family: Family, folder: Path) -> Path:
    path = bench_vehicle(folder, family.vehicle)
    if family.ecu == "HEADUNIT":
        path.write_text(path.read_text() + "\n" + ETHERNET_HEADUNIT)
    return path


def sim_doip() -> AdapterConfig:
    return AdapterConfig(interface=SIM_DOIP, channel=f"campaign-{uuid.uuid4()}")


class RestartAtStep:
    """Restarts the gateway when the ECU's work enters step `index` (or a moment later)."""

    def __init__(self, conn: VehicleConnection, ecu: str, index: int, rng: random.Random
                 ) -> None:
        self.conn, self.ecu, self.index = conn, ecu, index
        self.delay = rng.choice((0.0, rng.uniform(0.0, 0.3)))
        self.timer: threading.Timer | None = None
        self.what = ""

    def __call__(self, event: object) -> None:
        if (isinstance(event, EcuStep) and event.ecu == self.ecu and event.index == self.index
                and not self.what and self.conn.gateway is not None):
            self.timer = threading.Timer(self.delay, self.conn.gateway.restart)
            self.timer.start()
            self.what = f"gateway restart {self.delay:.2f} s into {event.step}"

    def done(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def run_doip_case(seed: int, folder: Path) -> CaseResult:
    family = DOIP_FAMILIES[seed % len(DOIP_FAMILIES)]
    fault = DOIP_KINDS[(seed // len(DOIP_FAMILIES)) % len(DOIP_KINDS)]
    rng = random.Random(seed)
    fresh_vehicle_state(family.vehicle)
    vehicle = doip_vehicle(family, folder)
    target = make_target(family, folder / "packages")
    if family.size != FACTORY_IMAGE_SIZE:
        # the ECU's factory image is not the old package's (of another size): the old one
        # is known by its version
        target = dataclasses.replace(target, old=None)
    mode = rng.choice(family.modes)
    ecu = family.ecu
    what = ""
    with VehicleConnection(sim_doip(), load_vehicle(vehicle)) as conn:
        prep = prepare_flash(conn, target.package, mode=mode, only=[ecu], overrides=OVERRIDES)
        assert prep.plan is not None and prep.ready, prep.plan and prep.plan.blocking_reasons()
        plan = prep.plan.ecu(ecu)
        assert conn.gateway is not None
        restart: RestartAtStep | None = None
        if fault == "tcp_reset":
            sid = rng.choice(RESET_SIDS)
            block = plan.profile.max_block_length or 4095
            nth = rng.randint(1, max(1, plan.wire_bytes // block + 1)) if sid == 0x36 else (
                rng.randint(1, 3))
            conn.gateway.faults.reset_at(sid, nth)
            what = f"TCP reset at message {nth} of service {sid:02X}"
        elif fault == "gateway_restart":
            restart = RestartAtStep(conn, ecu, rng.randint(1, len(plan.steps)), rng)
        else:
            delay = rng.choice((rng.uniform(0.005, 0.04), rng.uniform(0.05, 0.4)))
            conn.gateway.faults.answer_slowly(delay)
            what = f"every answer {delay * 1000:.0f} ms late"
        outcome = run_flash(conn, prep, events=restart or (lambda _e: None)).ecus[0]
        if restart is not None:
            restart.done()
            what = restart.what or "no restart (the flash ended first)"
        conn.gateway.faults.answer_slowly(0.0)
        seen = final = target.truth(conn)
    wrong = seen not in CONSISTENT[outcome.outcome]
    record_wrong = _last_ecu_outcome(ecu) not in (outcome.outcome, None)
    resumed: str | None = None
    resumes = 1
    if outcome.outcome == "resumable":
        # a new command: a new connection to the gateway; the vehicle kept its state
        with VehicleConnection(sim_doip(), load_vehicle(vehicle)) as conn:
            resumed, _refusal_wrong, how = resume_all(conn, False)
            what += f"; resume: {resumed}: {how}"
            while resumed == "resumable" and resumes < RESUMES:
                resumed, _w, how = resume_all(conn, False)
                what += f"; again: {resumed}: {how}"
                resumes += 1
            final = target.truth(conn)
        verdict = _settled(resumed, ecu)
        wrong = wrong or verdict not in CONSISTENT or final not in CONSISTENT[verdict]
        if resumed not in ("nothing to resume", "none"):
            record_wrong = record_wrong or _last_ecu_outcome(ecu) != resumed
    return CaseResult(seed, family.name, mode, fault, outcome.outcome, resumed,
                      final not in ("new", "old"), wrong, not _audit_ok(),
                      f"{what}; {outcome.outcome}: {outcome.detail}"[:400], _intents_open(),
                      "keep", record_wrong, False, resumes)
