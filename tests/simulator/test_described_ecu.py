"""Issue 19: a simulated ECU defined by its PDX alone (the TOML names the PDX, addresses and
seed/key): the raw bytes it serves over the real stack are what odxtools encodes from the
description's physical defaults, and decode with the same description to those values."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import open_vehicle
from tests.integration.test_odx_new_ecu import TOML
from tests.simulator.bench import RawTester
from tests.vehicles.odx_ecu_builder import ROUTINE, build_new_ecu
from workshop.vehicles import load_vehicle


def test_the_pdx_ecu_serves_what_its_description_says(tmp_path: Path) -> None:
    build_new_ecu(tmp_path / "sault.pdx")
    path = tmp_path / "sault-car.toml"
    path.write_text(TOML.replace("[[ecus]]", "[[ecus]]\nlatency_ms = 0"), encoding="utf-8")
    ecu = load_vehicle(path).ecus[0]
    assert ecu.identification == {} and ecu.dtcs == ()  # nothing hand-written in the TOML
    assert [(m.start, m.length) for m in ecu.memory] == [(0x8000, 0x8000)]  # ODX-F PHYS-MEM
    assert ecu.flash.security_level == 0x11  # the session's SECURITY-METHOD
    conn = open_vehicle(path)
    t = RawTester(conn, "SAULT")
    try:
        speed = t.ask(b"\x22\xf4\x0c")
        assert speed == b"\x62\xf4\x0c\x2e\xe0"  # 12000 x 0.25 = 3000 rpm
        assert ecu.odx is not None
        decoded = ecu.odx.data_descriptions("somersault_lazy").did(0xF40C)
        assert decoded is not None and decoded.text(speed[3:]) == "3000 rpm"
        assert t.ask(b"\x22\xf1\x89") == b"\x62\xf1\x89" + b"1.0.0"
        assert t.ask(b"\x22\xf1\xb1") == b"\x62\xf1\xb1\x02"  # running: somersault_lazy
        assert t.ask(b"\x10\x03")[:2] == b"\x50\x03"
        assert t.ask(b"\x31\x01" + ROUTINE.to_bytes(2, "big")) == (
            b"\x71\x01" + ROUTINE.to_bytes(2, "big") + b"\x00")
        dtcs = t.ask(b"\x19\x02\xff")
        assert dtcs[:3] == b"\x59\x02\xff"
        assert sorted(dtcs[3 + i:3 + i + 4] for i in range(0, len(dtcs) - 3, 4)) == [
            b"\x01\x15\x00\x09", b"\x03\x35\x00\x09"]
    finally:
        t.close()
        conn.close()
