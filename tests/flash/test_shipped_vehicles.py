"""Every shipped vehicle can be flashed with its shipped package, approved by its shipped
baseline (signed by ensure_demo_material), through the CLI as a technician would."""

from __future__ import annotations

import sys

import pytest

from workshop.cli import main
from workshop.services.baseline_check import ensure_demo_material, package_store
from workshop.vehicles.definition import builtin_vehicles

PACKAGES = {"demo-car": "demo-car-abs-1.1.0", "truck": "truck-ecu10-2.0.1",
            "van": "van-ecm-1.1.0"}


def test_every_shipped_vehicle_has_a_package() -> None:
    assert set(builtin_vehicles()) == set(PACKAGES)


@pytest.mark.parametrize("vehicle", sorted(PACKAGES))
def test_shipped_vehicle_flashes_with_its_baseline(vehicle: str, capsys) -> None:
    ensure_demo_material(vehicle)
    stem = PACKAGES[vehicle].removeprefix("demo-car-")
    pkg = next(p for p in package_store().iterdir() if p.name.startswith(stem + "."))
    code = main(["--vehicle", vehicle, "flash", str(pkg), "--yes",
                 "--override", "rollback=single-bank ECU, no image of its version yet"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "baseline" not in out.err, out.err
    print(out.out, file=sys.stderr)
