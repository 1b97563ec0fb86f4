"""P2/P2* from the ECU's 0x10 answer, 0x78 keeps the client waiting, operation limits.

The simulator's operation time and 0x78 interval come from the fault plan and its P2* from
the vehicle definition, so each proof takes seconds instead of minutes. Where the ECU repeats
0x78 every 100 ms its P2* is 500 ms: a busy CI machine may delay a repeat, not by 400 ms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.simulator.bench import FrameCounter, bench
from workshop.services.connection import VehicleConnection
from workshop.simulator.faults import FaultPlan
from workshop.uds.client import EXTENDED_SESSION, EcuClient
from workshop.uds.errors import EcuTimeoutError
from workshop.uds.timing import TIMING_MARGIN_S

SELF_TEST = 0x0203
DONE = b"\x01\x02\x03\x00"  # routine 0x0203 started, status 0 (RoutineControl answer data)


def plan(conn: VehicleConnection) -> FaultPlan:
    assert conn.simulator is not None
    return conn.simulator.fault("ENGINE")


def test_p2_star_from_the_session_answer_cuts_off_a_silent_ecu(tmp_path: Path) -> None:
    # The ECU announces P2* = 300 ms, sends one 0x78 and then nothing for 3 s: the client
    # must give up after P2* (plus margin), not after a fixed 5 s, and not get the answer.
    with bench(tmp_path, engine="p2_star_ms = 300") as conn, conn.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        plan(conn).slow_operation(0x31, 3.0)
        plan(conn).pending_interval(None)
        with pytest.raises(EcuTimeoutError) as exc:
            ecu.routine(SELF_TEST)
        assert "did not answer RoutineControl" in str(exc.value)
        assert ecu.timing[1] == pytest.approx(0.3 + TIMING_MARGIN_S)


def test_pending_in_time_keeps_the_client_waiting_past_p2_star(tmp_path: Path) -> None:
    # P2* = 500 ms, the work takes 2 s, the ECU repeats 0x78 every 100 ms: about 20 waits.
    with bench(tmp_path, engine="p2_star_ms = 500") as conn, conn.client("ENGINE") as ecu:
        assert conn.endpoint is not None
        ecu.change_session(EXTENDED_SESSION)
        plan(conn).slow_operation(0x31, 2.0)
        plan(conn).pending_interval(0.1)
        assert ecu.routine(SELF_TEST) == DONE


def test_no_fixed_overall_cap_while_0x78_keeps_coming(tmp_path: Path) -> None:
    # main capped every request at udsoncan's `request_timeout` (30 s) whatever the ECU
    # said. Shrinking that setting to 0.5 s shows in 2 s that no such cap applies any more.
    with bench(tmp_path, engine="p2_star_ms = 500") as conn, conn.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        ecu._client.config["request_timeout"] = 0.5
        plan(conn).slow_operation(0x31, 2.0)
        plan(conn).pending_interval(0.1)
        assert ecu.routine(SELF_TEST) == DONE


def test_operation_sets_its_own_overall_limit(tmp_path: Path) -> None:
    with bench(tmp_path, engine="p2_star_ms = 500") as conn, conn.client("ENGINE") as ecu:
        ecu.change_session(EXTENDED_SESSION)
        plan(conn).pending_interval(0.1)
        plan(conn).slow_operation(0x31, 1.0)
        with ecu.operation_timeout(60):
            assert ecu.routine(SELF_TEST) == DONE
        plan(conn).slow_operation(0x31, 3.0)
        with pytest.raises(EcuTimeoutError) as exc:
            ecu.routine(SELF_TEST, timeout_s=0.5)
        assert "within the operation's limit of 0.5 s" in str(exc.value)
        assert "response pending" in str(exc.value) and exc.value.hint


def test_longer_p2_star_from_the_ecu_is_honoured(tmp_path: Path) -> None:
    # The ECU announces P2* = 7 s and lets 5.6 s pass after its 0x78: within its P2*, past
    # the 5 s main used for every ECU.
    with bench(tmp_path, engine="p2_star_ms = 7000") as conn, conn.client("ENGINE") as ecu:
        assert conn.endpoint is not None
        ecu.change_session(EXTENDED_SESSION)
        plan(conn).slow_operation(0x31, 5.6)
        plan(conn).pending_interval(None)
        assert ecu.routine(SELF_TEST) == DONE


def test_pending_repeats_are_on_the_wire(tmp_path: Path) -> None:
    """The simulator really repeats 0x78 while it works (what the tests above rely on)."""
    with bench(tmp_path, engine="p2_star_ms = 500") as conn:
        assert conn.endpoint is not None
        trace = FrameCounter(conn.endpoint, 0x7E8, b"\x03\x7f\x31\x78")
        with EcuClient(conn.endpoint, conn.target(conn.vehicle.ecu("ENGINE"))) as ecu:
            ecu.change_session(EXTENDED_SESSION)
            plan(conn).slow_operation(0x31, 1.0)
            plan(conn).pending_interval(0.1)
            assert ecu.routine(SELF_TEST) == DONE
        assert trace.count >= 5
