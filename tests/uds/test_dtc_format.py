"""DTC codes decoded in the format the ECU declares (DTCFormatIdentifier of 0x19 01)."""

from __future__ import annotations

from pathlib import Path

from tests.simulator.bench import J1939_ECU, FrameCounter, bench
from workshop.transport.adapters import open_bus
from workshop.transport.router import BusEndpoint
from workshop.uds.client import EcuClient
from workshop.uds.dtc import DTC_FORMAT_ISO14229_1, DTC_FORMAT_SAE_J1939_73


def test_j1939_ecu_dtcs_read_as_spn_fmi_and_others_as_j2012(tmp_path: Path) -> None:
    with bench(tmp_path, extra=J1939_ECU) as conn:
        with conn.client("RETARDER") as ecu:
            dtcs = ecu.read_dtcs(mask=0xFF)
            assert ecu.dtc_format() == DTC_FORMAT_SAE_J1939_73
        assert [(d.code, d.dtc, d.status) for d in dtcs] == [
            ("SPN 110 FMI 0", 0x6E0000, 0x2F), ("SPN 524287 FMI 31", 0xFFFFFF, 0x08)]
        assert dtcs[0].to_json()["format"] == "SAE J1939-73"
        with conn.client("ENGINE") as ecu:
            engine = ecu.read_dtcs()
            assert ecu.dtc_format() == DTC_FORMAT_ISO14229_1
        assert [d.code for d in engine] == ["P030100", "P017100"]
        assert engine[0].to_json()["format"] == "ISO 14229-1"


def test_format_declared_in_the_definition_needs_no_question(tmp_path: Path) -> None:
    with bench(tmp_path, extra=J1939_ECU) as conn:
        assert conn.endpoint is not None
        definition = conn.vehicle.ecu("RETARDER")
        assert definition.dtc_format == DTC_FORMAT_SAE_J1939_73
        target = conn.target(definition)  # the connection hands the declared format on
        assert target.dtc_format == DTC_FORMAT_SAE_J1939_73
        trace = BusEndpoint(open_bus(conn.adapter))  # a bus does not see its own frames
        try:
            asked = FrameCounter(trace, 0x7E7, b"\x03\x19\x01")
            listed = FrameCounter(trace, 0x7E7, b"\x03\x19\x02")
            with EcuClient(conn.endpoint, target) as ecu:
                assert [d.code for d in ecu.read_dtcs(details=False)] == ["SPN 110 FMI 0",
                                                                    "SPN 524287 FMI 31"]
            assert listed.wait_for(1)
            assert asked.count == 0
        finally:
            trace.close()
