"""Regenerate resources/vehicles/demo-car.toml and truck.toml (deterministic; van.toml is
written by hand). Run: python tools/gen_vehicles.py"""

from __future__ import annotations

import random
from pathlib import Path

from workshop.diagnostics.vin import check_digit

OUT = Path(__file__).resolve().parents[1] / "resources" / "vehicles"

DEMO = [  # name, req, resp, supplier, dtcs
    ("ENGINE", 0x7E0, 0x7E8, "Bosch", [
        ("P030100", 0x2F, True, "Cylinder 1 misfire detected"),
        ("P017100", 0x28, False, "System too lean, bank 1")]),
    ("TRANSMISSION", 0x7E1, 0x7E9, "ZF", [("P070000", 0x28, False, "Transmission control system")]),
    ("ABS", 0x7E2, 0x7EA, "Continental", [
        ("C003504", 0x2F, True, "Left front wheel speed sensor: internal fault")]),
    ("AIRBAG", 0x7E3, 0x7EB, "Autoliv", []),
    ("BODY", 0x7E4, 0x7EC, "Hella", [("B100113", 0x28, False, "Driver door lock: open circuit")]),
    ("INSTRUMENT", 0x7E5, 0x7ED, "Visteon", []),
    ("GATEWAY", 0x7E6, 0x7EE, "Vector", [("U010087", 0x2F, True, "Lost communication with ECM")]),
]


# Two bootloader types, so the executor is proven generic: different routine ids, security
# levels, fingerprint DIDs, block lengths, data formats and banks.
FLASH_TYPES = {
    "ab": [
        'banks = "ab"', "security_level = 0x11",
        'preconditions = { id = 0x0204, args = "none" }', 'precondition_answer = "status_byte"',
        'check_memory = { id = 0x0202, args = "checksum" }',
        'rollback = { id = 0xFF02, args = "none" }', "fingerprint_did = 0xF15A",
        "data_formats = { plain = 0x00, lz4 = 0x10, bsdiff4 = 0x20 }",
        "max_block_length = 0x0FFF", "sector_size = 4096", "erase_ms_per_sector = 20",
        "write_bytes_per_s = 200000"],
    "single": [
        'banks = "single"', "security_level = 0x05",
        'preconditions = { id = 0x0210, args = "none" }', 'precondition_answer = "failed_bits"',
        'check_memory = { id = 0x0201, args = "checksum" }', "rollback = false",
        "fingerprint_did = 0xF198", "data_formats = { plain = 0x00, lz4 = 0x10 }",
        "max_block_length = 0x0802", "sector_size = 2048", "erase_ms_per_sector = 15",
        "write_bytes_per_s = 80000"],
}
DEMO_FLASH = {"ENGINE": ("ab", 0x08000000), "TRANSMISSION": ("ab", 0x08000000),
              "GATEWAY": ("ab", 0x00000000), "ABS": ("single", 0x00010000),
              "AIRBAG": ("single", 0x00010000), "BODY": ("single", 0x00020000),
              "INSTRUMENT": ("single", 0x00020000)}
COMMON_FLASH = ['seed_key = "demo-xor"', 'erase = { id = 0xFF00, args = "address_length" }',
                'check_dependencies = { id = 0xFF01, args = "none" }',
                "address_and_length_format = 0x44", "anti_rollback_did = 0xF1A0"]
TRUCK_FLASH = ['seed_key = "demo-xor"', 'banks = "single"', "security_level = 0x01",
               "preconditions = false", 'erase = { id = 0x0301, args = "region_index" }',
               'check_memory = { id = 0x0302, args = "checksum" }',
               'check_dependencies = { id = 0xFF01, args = "none" }', "rollback = false",
               "fingerprint_did = 0xF15A", "data_formats = { plain = 0x00, lz4 = 0x10 }",
               "address_and_length_format = 0x44", "max_block_length = 0x0400",
               "sector_size = 4096", "erase_ms_per_sector = 25", "write_bytes_per_s = 60000"]


def memory(start: int) -> list[str]:
    return ["[[ecus.memory]]", f"start = 0x{start:08X}", "length = 0x40000", ""]


def vin(prefix: str, serial: str) -> str:
    """ISO 3779 VIN: 8 characters, the 49 CFR 565 check digit, model year R (2024), then
    plant and serial (`serial`, 7 characters); no I, O or Q."""
    assert len(prefix) == 8 and len(serial) == 7
    body = f"{prefix}0R{serial}"
    return body[:8] + check_digit(body) + body[9:]


def ident(name: str, supplier: str, idx: int, sw: str, hw_prefix: str) -> list[str]:
    return [
        f'F180 = "BL-{name[:3]}-0{idx}"',
        f'F187 = "5Q0-{900 + idx}-{100 + idx}-A"',
        f'F188 = "SW{4000 + idx:05d}"',
        f'F189 = "{sw}"',
        f'F18A = "{supplier}"',
        f'F18C = "SN{20240000 + idx * 7919:010d}"',
        f'F191 = "{hw_prefix}-{name[:3]}-HW-100"',
        'F193 = "H03"',
        f'F195 = "{sw}"',
        f'F197 = "{name}"',
        f'F19E = "EV_{name}_{idx:03d}"',
    ]


def dtc_block(code: str, status: int, present: bool, text: str) -> str:
    return (
        f'[[ecus.dtcs]]\ncode = "{code}"\nstatus = 0x{status:02X}\n'
        f'present = {"true" if present else "false"}\ntext = "{text}"\n'
        f'snapshots = [{{ record = 1, dids = {{ "9000" = "0BB8", "9001" = "5A" }} }}]\n'
        f'extended = {{ "1" = "03", "2" = "0A" }}\n'
    )


# what snapshot DIDs and extended data records mean (workshop/vehicles/data_ids.py)
DATA_IDS = [
    "[snapshot_dids]  # size in bytes, and what the value is (name, scale, offset, unit)",
    '"9000" = { size = 2, name = "Engine speed", unit = "rpm" }',
    '"9001" = { size = 1, name = "Coolant temperature", offset = -40, unit = "°C" }', "",
    "[extended_records]  # DTC extended data records (0x19 06) by number: size, name, unit",
    '"1" = { size = 1, name = "Occurrence counter" }',
    '"2" = { size = 1, name = "Aging counter", unit = "cycles" }', ""]


def demo_car() -> str:
    lines = ['name = "demo-car"', 'model = "Demo Car 2024"',
             f'vin = "{vin("WDXDEMC1", "A000001")}"', "",
             "[bus]", "bitrate = 500000", 'addressing = "normal_11bit"', "functional_id = 0x7DF",
             "latency_ms = [5, 15]", 'dtc_format = "iso14229-1"', "",
             *DATA_IDS, "[flash]", *COMMON_FLASH, ""]
    for i, (name, req, resp, supplier, dtcs) in enumerate(DEMO, start=1):
        kind, start = DEMO_FLASH[name]
        lines += ["[[ecus]]", f'name = "{name}"', f"request_id = 0x{req:03X}",
                  f"response_id = 0x{resp:03X}", 'seed_key = "demo-xor"', "",
                  *memory(start), f"[ecus.flash]  # bootloader type {kind!r}",
                  *FLASH_TYPES[kind], "", "[ecus.identification]"]
        lines += [*ident(name, supplier, i, "1.0.0", "DC"), ""]
        lines += [dtc_block(*d) for d in dtcs]
    return "\n".join(lines)


def truck() -> str:
    rng = random.Random(2024)
    lines = ['name = "truck"', 'model = "Demo Truck 40t"',
             f'vin = "{vin("WTXTRK40", "B000042")}"', "",
             "[bus]", "bitrate = 500000", 'addressing = "normal_fixed_29bit"',
             "tester_address = 0xF1", "latency_ms = [20, 50]",
             'dtc_format = "iso14229-1"', "",
             *DATA_IDS, "[flash]", *TRUCK_FLASH, ""]
    for i in range(30):
        addr = 0x10 + i
        name = f"ECU{addr:02X}"
        lines += ["[[ecus]]", f'name = "{name}"', f"address = 0x{addr:02X}",
                  'seed_key = "demo-xor"', "", *memory(0x00040000),
                  "[ecus.identification]"]
        lines += [*ident(name, "TruckParts", i + 1, f"2.{i % 4}.0", "TR"), ""]
        for _ in range(rng.randint(0, 3)):
            code = f"{rng.choice('PCBU')}{rng.randint(0, 3)}{rng.randint(0, 0xFFF):03X}"
            code += f"{rng.choice([0, 0x11, 0x1F, 0x87]):02X}"
            present = rng.random() < 0.4
            lines.append(dtc_block(code, 0x2F if present else 0x28, present, "Simulated fault"))
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "demo-car.toml").write_text(demo_car(), encoding="utf-8")
    (OUT / "truck.toml").write_text(truck(), encoding="utf-8")
