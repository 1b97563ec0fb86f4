"""P2 runs from the transmit confirmation (ISO 14229-2), not from when a request was queued.

Four ECUs flashed in parallel share one slow bus on the bus-rate model: each 4 KiB
TransferData block waits behind the other three ECUs' blocks and takes longer to leave than
P2 lasts. Timed from the queueing, healthy ECUs were cut off ("confirmed TransferData block
01, not 02"); timed from the confirmation, every ECU's flash succeeds.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from workshop.foundation.events import EcuStep, Event
from workshop.packages.build import build_package
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import demo_signer
from workshop.vehicles import load_vehicle

BASE = 0x08000000
NAMES = ["P0", "P1", "P2", "P3"]
BITRATE = 125_000  # a 4 KiB block takes about 0.55 s alone, four interleaved over 2 s


def vehicle(folder: Path) -> Path:
    lines = ['name = "parallel"', 'model = "Parallel"', 'vin = "WDXDEMC12RA000002"', "",
             "[bus]", f"bitrate = {BITRATE}", 'addressing = "normal_11bit"',
             "functional_id = 0x7DF", "latency_ms = [1, 3]", "", "[flash]",
             'banks = "ab"', "security_level = 0x11", 'seed_key = "demo-xor"',
             "data_formats = { plain = 0x00 }", "sector_size = 4096",
             "write_bytes_per_s = 1e9", "erase_ms_per_sector = 0.001", ""]
    for i, name in enumerate(NAMES):
        lines += ["[[ecus]]", f'name = "{name}"', f"request_id = 0x{0x700 + i:X}",
                  f"response_id = 0x{0x708 + i:X}", 'seed_key = "demo-xor"', "",
                  "[[ecus.memory]]", f"start = 0x{BASE:X}", "length = 0x100000", "",
                  "[ecus.identification]", 'F189 = "1.0.0"', f'F191 = "HW-{name}"', ""]
    path = folder / "parallel.toml"
    path.write_text("\n".join(lines))
    return path


def package(folder: Path) -> Path:
    lines = ["[package]", 'id = "parallel-2"', 'version = "2.0.0"',
             'vehicle_models = ["parallel"]', ""]
    for i, name in enumerate(NAMES):
        lines += ["[[ecu]]", f'name = "{name}"', f"address = 0x{0x700 + i:X}",
                  f'hardware_part_numbers = ["HW-{name}"]', 'from_versions = ["1.0.0"]',
                  'new_version = "2.0.0"', "security_version = 1", "",
                  "[[ecu.region]]", f"address = 0x{BASE:X}", "generate_size = 8192", ""]
    spec = folder / "parallel-spec.toml"
    spec.write_text("\n".join(lines))
    out = folder / "parallel.wspkg"
    build_package(spec, out, demo_signer())
    return out


def test_four_ecus_in_parallel_on_one_busy_bus_all_succeed(tmp_path: Path) -> None:
    definition = load_vehicle(vehicle(tmp_path))
    adapter = AdapterConfig(channel=f"test-{uuid.uuid4()}", bitrate=BITRATE, rate_model=True)
    steps: list[EcuStep] = []

    def record(event: Event) -> None:
        if isinstance(event, EcuStep):
            steps.append(event)

    with VehicleConnection(adapter, definition) as conn:
        prep = prepare_flash(conn, package(tmp_path), overrides={
            "baseline": "test", "version": "test", "rollback": "test"})
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        result = run_flash(conn, prep, events=record)
        assert conn.simulator is not None
        versions = {n: conn.simulator.ecus[n].flash.version() for n in NAMES}
    assert [o.outcome for o in result.ecus] == ["success"] * 4, [o.detail for o in result.ecus]
    assert versions == dict.fromkeys(NAMES, "2.0.0")
    # The four downloads shared the bus: each started before any of them finished.
    order = [(s.ecu, s.step.split()[0]) for s in steps]
    starts = [order.index((n, "download")) for n in NAMES]
    ends = [order.index((n, "check")) for n in NAMES]
    assert max(starts) < min(ends)
