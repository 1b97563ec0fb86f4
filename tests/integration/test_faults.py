"""Security lockout, sessions, functional requests and injected faults, over the real stack.

Nothing here sleeps: timers of the ECU (S3, security delay) expire by moving the simulated
ECU's clock (`FaultPlan.advance_clock`), a reboot is awaited on `FaultPlan.powered`, and the
keep-alive test waits for TesterPresent frames on the wire.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import open_vehicle
from tests.integration.test_services import raw
from tests.simulator.bench import FrameCounter
from workshop.services.connection import VehicleConnection
from workshop.services.diagnose import scan
from workshop.simulator.services import security
from workshop.transport.adapters import open_bus
from workshop.transport.errors import BusOffError
from workshop.transport.router import BusEndpoint
from workshop.uds.client import EXTENDED_SESSION
from workshop.uds.errors import EcuTimeoutError, NegativeResponseError


def nrc_of(fn: Callable[[], object]) -> int | None:
    try:
        fn()
    except NegativeResponseError as exc:
        return exc.nrc
    return None


def test_security_invalid_key_lockout_and_recovery(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    clock = demo.simulator.fault("ENGINE")
    with demo.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        codes = []
        for _ in range(security.MAX_ATTEMPTS):
            raw(ecu, b"\x27\x01")
            codes.append(nrc_of(lambda: raw(ecu, b"\x27\x02\x00\x00\x00\x00")))
        assert codes == [0x35] * (security.MAX_ATTEMPTS - 1) + [0x36]
        assert nrc_of(lambda: raw(ecu, b"\x27\x01")) == 0x37
        # Let the required time delay pass on the ECU's clock, in steps shorter than S3
        # with a TesterPresent between them so that the session stays extended.
        step = 0.8 * demo.vehicle.ecu("ENGINE").s3_ms / 1000
        for _ in range(int(security.SECURITY_DELAY_S / step)):
            clock.advance_clock(step)
            raw(ecu, b"\x3e\x00")
            assert nrc_of(lambda: raw(ecu, b"\x27\x01")) == 0x37  # still locked
        clock.advance_clock(step)
        assert nrc_of(lambda: raw(ecu, b"\x27\x01")) is None
        ecu.unlock()
        ecu.write_did(0xF199, b"\x24\x11\x22")


def test_suppress_positive_response(demo: VehicleConnection) -> None:
    with demo.client("ENGINE") as ecu:
        ecu.tester_present(suppress=True)  # no answer expected, no timeout raised
        with ecu._client.suppress_positive_response(wait_nrc=True), \
                pytest.raises(NegativeResponseError) as exc:
            ecu.reset(kind=0x05)  # bad sub-function: the NRC still comes back
        assert exc.value.nrc == 0x12


def test_functional_tester_present_and_suppressed_nrcs(demo: VehicleConnection) -> None:
    answers = demo.functional(b"\x3e\x00")
    assert {a.response_id for a in answers} == {e.response_id for e in demo.vehicle.ecus}
    assert all(a.payload == b"\x7e\x00" for a in answers)
    for payload in (b"\x23\x00", b"\x3e\x05", b"\x22\x12\x34"):
        assert demo.functional(payload, window_s=0.3) == []


def test_general_reject_injected(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").answer_with_nrc(0x22, 0x10, times=1)
    with demo.client("ENGINE") as ecu:
        with pytest.raises(NegativeResponseError) as exc:
            ecu.read_did(0xF188)
        assert exc.value.nrc == 0x10
        assert ecu.read_did(0xF188) == b"SW04001"


def test_silent_ecu_times_out_naming_it(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ABS").stop_answering()
    with demo.client("ABS") as ecu, pytest.raises(EcuTimeoutError) as exc:
        ecu.read_did(0xF188)
    assert "ABS" in str(exc.value)
    assert re.search(r"7E2|7e2", str(exc.value))


def test_dropped_frame_then_recovery(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").drop_frame(2)  # 2nd frame: a consecutive frame of F19E
    with demo.client("ENGINE") as ecu:
        with pytest.raises(EcuTimeoutError):
            ecu.read_did(0xF19E)
        assert ecu.read_did(0xF19E) == b"EV_ENGINE_001"


def test_corrupted_frame(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").corrupt_frame(1)
    with demo.client("ENGINE") as ecu:
        value = ecu.read_did(0xF188)
        assert value != b"SW04001"
        assert ecu.read_did(0xF188) == b"SW04001"


def test_respond_slowly_uses_response_pending(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("ENGINE").respond_slowly(1500)
    with demo.client("ENGINE") as ecu:
        assert ecu.read_did(0xF188) == b"SW04001"


def test_lose_power_reboots_in_default_session(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    plan = demo.simulator.fault("ENGINE")
    with demo.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        plan.lose_power(1.5)
        with pytest.raises(EcuTimeoutError):
            ecu.read_did(0xF188)
        assert plan.powered.wait(20)  # set by the ECU when it has rebooted
        assert ecu.read_did(0xF188) == b"SW04001"
        assert nrc_of(lambda: raw(ecu, b"\x27\x01")) == 0x7F  # back in default session
        assert 0x030100 in {d.dtc for d in ecu.read_dtcs(details=False)}


def test_bus_off(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    with demo.client("ENGINE") as ecu:
        demo.simulator.bus_off(True)
        try:
            with pytest.raises(BusOffError) as exc:
                ecu.read_did(0xF188)
            assert "transmit" in str(exc.value)
            assert exc.value.hint
        finally:
            demo.simulator.bus_off(False)
        assert ecu.read_did(0xF188) == b"SW04001"  # the link survives bus-off


def test_scan_with_one_silent_ecu(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    demo.simulator.fault("AIRBAG").stop_answering()
    result = scan(demo)
    by_name = {e.name: e for e in result.ecus}
    assert by_name["AIRBAG"].error
    assert all(e.error is None for n, e in by_name.items() if n != "AIRBAG")


def _short_s3(tmp_path: Path) -> Path:
    src = Path(__file__).resolve().parents[2] / "resources" / "vehicles" / "demo-car.toml"
    text = src.read_text().replace('name = "ENGINE"', 'name = "ENGINE"\ns3_ms = 1000', 1)
    path = tmp_path / "demo-s3.toml"
    path.write_text(text)
    return path


def test_s3_timeout_returns_to_default(demo: VehicleConnection) -> None:
    assert demo.simulator is not None
    with demo.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        ecu._stop_keepalive()
        raw(ecu, b"\x27\x01")  # allowed in extended
        s3_s = demo.vehicle.ecu("ENGINE").s3_ms / 1000
        demo.simulator.fault("ENGINE").advance_clock(0.9 * s3_s)
        raw(ecu, b"\x27\x01")  # within S3: still extended, and S3 starts again
        demo.simulator.fault("ENGINE").advance_clock(s3_s + 0.1)  # idle past S3
        assert nrc_of(lambda: raw(ecu, b"\x27\x01")) == 0x7F


@pytest.mark.slow
def test_keepalive_keeps_session(tmp_path: Path) -> None:
    conn = open_vehicle(_short_s3(tmp_path))
    try:
        assert conn.endpoint is not None and conn.simulator is not None
        with conn.client("ENGINE") as ecu:
            ecu.change_session(EXTENDED_SESSION)
            ecu._stop_keepalive()
            # A bus does not receive its own frames: count on a second endpoint (a trace).
            trace = BusEndpoint(open_bus(conn.adapter))
            try:
                keepalives = FrameCounter(trace, 0x7E0, b"\x02\x3e\x80")
                ecu._start_keepalive(period_s=0.2)
                # 15 keep-alives 0.2 s apart span about three S3 periods (1 s)
                assert keepalives.wait_for(15)
            finally:
                trace.close()
            assert nrc_of(lambda: raw(ecu, b"\x27\x01")) is None
    finally:
        conn.close()
