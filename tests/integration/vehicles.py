"""Vehicle definitions written by tests: variants of the shipped ones and synthetic fleets."""

from __future__ import annotations

from pathlib import Path

from workshop.foundation.paths import resources_dir


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
