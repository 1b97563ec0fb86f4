"""Positive paths and NRCs of every service, over the real simulator/CAN/ISO-TP/udsoncan stack."""

from __future__ import annotations

import pytest
from udsoncan import Request

from tests.simulator.bench import FrameCounter
from workshop.services.connection import VehicleConnection
from workshop.uds.client import EXTENDED_SESSION, PROGRAMMING_SESSION, EcuClient
from workshop.uds.errors import NegativeResponseError


def raw(ecu: EcuClient, payload: bytes) -> bytes:
    """Send raw request bytes; return the positive response bytes (NRC -> our typed error)."""
    req = Request.from_payload(payload)
    resp = ecu._call("raw", payload[0], lambda: ecu._client.send_request(req))
    return bytes(resp.original_payload)


def assert_nrc(exc: pytest.ExceptionInfo[NegativeResponseError], code: int) -> None:
    assert exc.value.nrc == code
    text = str(exc.value)
    assert f"0x{code:02X}" in text
    assert exc.value.hint and len(exc.value.hint) > 10


@pytest.fixture
def engine(demo: VehicleConnection):
    with demo.client("ENGINE") as ecu:
        yield ecu


def test_read_identification(engine: EcuClient) -> None:
    assert engine.read_did(0xF188) == b"SW04001"


def test_unknown_service_0x11(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        raw(engine, b"\x3d\x11\x00\x00\x00\x01\xaa")  # WriteMemoryByAddress
    assert_nrc(exc, 0x11)


def test_subfunction_not_supported_0x12(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        raw(engine, b"\x10\x05")
    assert_nrc(exc, 0x12)


def test_incorrect_length_0x13(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        raw(engine, b"\x3e\x00\x00")
    assert_nrc(exc, 0x13)


def test_programming_from_default_0x22(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        engine.change_session(PROGRAMMING_SESSION)
    assert_nrc(exc, 0x22)


def test_unknown_did_0x31(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        engine.read_did(0x1234)
    assert_nrc(exc, 0x31)


def test_multi_did_read(engine: EcuClient) -> None:
    resp = raw(engine, b"\x22\xf1\x88\xf1\x8a")
    assert resp == b"\x62\xf1\x88SW04001\xf1\x8aBosch"


def test_security_in_default_session_0x7f(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        engine.unlock()
    assert_nrc(exc, 0x7F)


def test_send_key_without_seed_0x24(engine: EcuClient) -> None:
    engine.change_session(EXTENDED_SESSION)
    with pytest.raises(NegativeResponseError) as exc:
        raw(engine, b"\x27\x02\x00\x00\x00\x00")
    assert_nrc(exc, 0x24)


def test_write_locked_then_unlocked(engine: EcuClient) -> None:
    engine.change_session(EXTENDED_SESSION)
    with pytest.raises(NegativeResponseError) as exc:
        engine.write_did(0xF198, b"ABCDEF")
    assert_nrc(exc, 0x33)
    engine.unlock()
    engine.write_did(0xF198, b"ABCDEF")
    assert engine.read_did(0xF198) == b"ABCDEF"


def test_clear_dtcs_with_response_pending(demo: VehicleConnection, engine: EcuClient) -> None:
    assert demo.endpoint is not None
    pending = FrameCounter(demo.endpoint, 0x7E8, b"\x03\x7f\x14\x78")
    final = FrameCounter(demo.endpoint, 0x7E8, b"\x01\x54")
    engine.clear_dtcs()
    assert final.wait_for(1)  # the tap may see the last frame just after the client did
    assert (pending.count, final.count) == (1, 1)  # 0x78 first, then the positive answer
    # the present misfire is detected again; the lean DTC is only "not completed" now
    assert {(d.dtc, d.status) for d in engine.read_dtcs(details=False)} == {(0x030100, 0x27)}
    assert {(d.dtc, d.status) for d in engine.supported_dtcs()} == {(0x030100, 0x27),
                                                                    (0x017100, 0x50)}


def test_self_test_routine_pending(demo: VehicleConnection, engine: EcuClient) -> None:
    assert demo.endpoint is not None
    pending = FrameCounter(demo.endpoint, 0x7E8, b"\x03\x7f\x31\x78")
    engine.change_session(EXTENDED_SESSION)
    with pytest.raises(NegativeResponseError) as exc:
        engine.routine(0x0203, control=3)
    assert_nrc(exc, 0x24)
    assert engine.routine(0x0203, control=1) == b"\x01\x02\x03\x00"
    assert pending.count == 1  # the start answered 0x78 before its final answer
    assert engine.routine(0x0203, control=3) == b"\x03\x02\x03\x00"


def test_unknown_routine_0x31(engine: EcuClient) -> None:
    engine.change_session(EXTENDED_SESSION)
    with pytest.raises(NegativeResponseError) as exc:
        engine.routine(0x0999)
    assert_nrc(exc, 0x31)


def test_quick_check_routine(engine: EcuClient) -> None:
    engine.change_session(EXTENDED_SESSION)
    assert engine.routine(0x0202, control=1)[:3] == b"\x01\x02\x02"
    assert engine.routine(0x0202, control=3)[:3] == b"\x03\x02\x02"
    assert engine.routine(0x0202, control=2)[:3] == b"\x02\x02\x02"


def test_unknown_dtc_records_0x31(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        raw(engine, b"\x19\x04\x12\x34\x56\xff")
    assert_nrc(exc, 0x31)


def test_dtc_information_content(engine: EcuClient) -> None:
    assert engine.count_dtcs() == 2  # P030100 (0x2F) and P017100 (0x28) match mask 0x2F
    assert engine.count_dtcs(mask=0x01) == 1  # only P030100 has testFailed
    supported = {d.dtc for d in engine.supported_dtcs()}
    assert supported == {0x030100, 0x017100}
    dtcs = {d.code: d for d in engine.read_dtcs()}
    dtc = dtcs["P030100"]
    assert dtc.status == 0x2F
    assert dtc.snapshots and dtc.extended


def test_communication_control_and_dtc_setting(engine: EcuClient) -> None:
    with pytest.raises(NegativeResponseError) as exc:
        engine.communication_control(0x01)
    assert_nrc(exc, 0x7F)
    engine.change_session(EXTENDED_SESSION)
    engine.communication_control(0x01)
    engine.communication_control(0x00)
    engine.control_dtc_setting(False)
    engine.control_dtc_setting(True)


def test_ecu_reset_returns_to_default(engine: EcuClient) -> None:
    engine.change_session(EXTENDED_SESSION)
    engine.reset(1)
    with pytest.raises(NegativeResponseError) as exc:
        engine.unlock()
    assert_nrc(exc, 0x7F)
