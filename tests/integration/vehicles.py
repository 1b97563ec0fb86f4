"""Vehicle definitions written by tests: variants of the shipped ones and synthetic fleets."""

from __future__ import annotations

from pathlib import Path

from workshop.foundation.paths import resources_dir

# A head unit on the vehicle's Ethernet (demo_variant(..., ETHERNET_HEADUNIT)): the DoIP
# gateway serves it itself, with 64 KiB blocks
ETHERNET_HEADUNIT = """
[[ecus]]
name = "HEADUNIT"
request_id = 0x6F0
response_id = 0x6F8
ethernet = true
seed_key = "demo-xor"

[[ecus.memory]]
start = 0x08000000
length = 0x100000

[ecus.flash]
security_level = 0x11
check_memory = { id = 0x0202, args = "checksum" }
fingerprint_did = 0xF15A
data_formats = { plain = 0x00, lz4 = 0x10 }
sector_size = 65536
erase_ms_per_sector = 1
write_bytes_per_s = 50000000

[ecus.identification]
F187 = "HU-901-A"
F189 = "1.0.0"
F18A = "Harman"
F191 = "DC-HU-HW-100"
F195 = "1.0.0"
F197 = "HEADUNIT"
"""


def demo_variant(tmp_path: Path, name: str, extra: str = "", vin: str | None = None) -> Path:
    """demo-car with `extra` TOML appended (e.g. one more [[ecus]]) and optionally another VIN."""
    text = (resources_dir() / "vehicles" / "demo-car.toml").read_text(encoding="utf-8")
    if vin is not None:
        head, _, rest = text.partition("\nvin = ")
        text = f'{head}\nvin = "{vin}"\n{rest.split(chr(10), 1)[1]}'
    path = tmp_path / f"{name}.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def synthetic_fleet(tmp_path: Path, n: int, latency_ms: int = 1) -> Path:
    """`n` ECUs on 29-bit normal-fixed addressing, each with part number and version."""
    lines = ['name = "fleet"', 'model = "Synthetic"', 'vin = "1M8GDM9AXKP042788"', "",
             "[bus]", "bitrate = 500000", 'addressing = "normal_fixed_29bit"',
             "tester_address = 0xF1", f"latency_ms = [{latency_ms}, {latency_ms}]", ""]
    addresses = [a for a in range(0x01, 0xFF) if a != 0xF1][:n]
    assert len(addresses) == n, "29-bit fixed addressing has at most 253 ECU addresses"
    for a in addresses:
        lines += ["[[ecus]]", f'name = "N{a:02X}"', f"address = 0x{a:02X}", "",
                  "[ecus.identification]", f'F187 = "PN-{a:02X}"', 'F189 = "1.0.0"', ""]
    path = tmp_path / f"fleet-{n}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
