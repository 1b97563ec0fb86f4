"""Over DoIP a flash's plan, progress and ETA are measured against the Ethernet link's limit
(100BASE-TX nominal), not the CAN bus model's ISO-TP ceiling."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.flash.helpers import Update, build
from workshop.flash.events import FlashProgress
from workshop.foundation.events import Event
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.transport.adapters import SIM_DOIP, AdapterConfig
from workshop.transport.doip_codec import doip_ceiling_bps
from workshop.vehicles import load_vehicle


def test_plan_and_progress_use_the_ethernet_limit(demo: VehicleConnection,
                                                  tmp_path: Path) -> None:
    pkg = build(tmp_path / "pkg", "engine-update", [Update("ENGINE", size=65536)])
    over_can = prepare_flash(demo, pkg, overrides={"rollback": "test"}).plan
    assert over_can is not None and over_can.bus_limit_bps < 100_000  # ISO-TP at 500 kbit/s
    adapter = AdapterConfig(interface=SIM_DOIP, channel=f"test-{uuid.uuid4()}")
    with VehicleConnection(adapter, load_vehicle("demo-car")) as conn:
        prep = prepare_flash(conn, pkg, overrides={"rollback": "test"})
        assert prep.plan is not None
        assert prep.plan.bus_limit_bps == doip_ceiling_bps()
        assert 11_800_000 < prep.plan.bus_limit_bps < 11_900_000  # 1460 of 1538 of 12.5 MB/s
        wire_can = over_can.ecu("ENGINE").transfers[0].wire_s
        assert prep.plan.ecu("ENGINE").transfers[0].wire_s < wire_can / 100
        seen: list[Event] = []
        result = run_flash(conn, prep, events=seen.append)
    assert result.ok, result.ecus
    progress = [e for e in seen if isinstance(e, FlashProgress)]
    assert progress and {e.bus_limit_bps for e in progress} == {doip_ceiling_bps()}
