"""Byte-level request/response of every simulated service over the real stack.

Raw UDS bytes go through a real ISO-TP link on the virtual bus to the simulated ECU; the test
compares the exact bytes that come back, including every 0x78 response-pending answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.simulator.bench import J1939_ECU, RawTester, bench
from workshop.simulator.protocol import PROGRAMMING, ServiceSpec

SESSION_TIMING = b"\x00\x32\x01\xf4"  # P2 50 ms, P2* 5000 ms in 10 ms units
PENDING = b"\x7f\x31\x78"


def demo_key(seed: bytes, level: int) -> bytes:
    """The simulator's documented demo seed/key algorithm, written out independently."""
    mask = bytes([0x5A ^ level, 0xC3, 0x3C ^ level, 0xA5])
    rotated = seed[1:] + seed[:1]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(rotated))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[RawTester]:
    with bench(tmp_path) as conn:
        tester = RawTester(conn, "ENGINE")
        try:
            yield tester
        finally:
            tester.close()


def extended(t: RawTester) -> None:
    assert t.ask(b"\x10\x03") == b"\x50\x03" + SESSION_TIMING


def unlocked(t: RawTester) -> None:
    extended(t)
    answer = t.ask(b"\x27\x01")
    assert answer[:2] == b"\x67\x01" and len(answer) == 6
    assert t.ask(b"\x27\x02" + demo_key(answer[2:], 1)) == b"\x67\x02"


# -- 0x10 DiagnosticSessionControl --------------------------------------------------------

def test_session_control(engine: RawTester) -> None:
    assert engine.ask(b"\x10\x01") == b"\x50\x01" + SESSION_TIMING
    assert engine.ask(b"\x10\x02") == b"\x7f\x10\x22"  # programming only from non-default
    assert engine.ask(b"\x10\x05") == b"\x7f\x10\x12"
    assert engine.ask(b"\x10\x03\x00") == b"\x7f\x10\x13"
    assert engine.ask(b"\x10\x03") == b"\x50\x03" + SESSION_TIMING
    assert engine.ask(b"\x10\x02") == b"\x50\x02" + SESSION_TIMING


# -- 0x11 ECUReset ----------------------------------------------------------------------

def test_ecu_reset(engine: RawTester) -> None:
    extended(engine)
    assert engine.ask(b"\x11\x01") == b"\x51\x01"
    assert engine.ask(b"\x27\x01") == b"\x7f\x27\x7f"  # back in the default session
    assert engine.ask(b"\x11\x05") == b"\x7f\x11\x12"
    assert engine.ask(b"\x11") == b"\x7f\x11\x13"
    engine.send(b"\x11\x81")  # suppressed positive answer: the next answer is 0x3E's
    assert engine.ask(b"\x3e\x00") == b"\x7e\x00"


# -- 0x14 ClearDiagnosticInformation ----------------------------------------------------

def test_clear_dtcs_answers_pending_then_positive(engine: RawTester) -> None:
    assert engine.exchange(b"\x14\xff\xff\xff") == [b"\x7f\x14\x78", b"\x54"]
    assert engine.ask(b"\x14\x12\x34\x56") == b"\x7f\x14\x31"
    assert engine.ask(b"\x14\xff\xff") == b"\x7f\x14\x13"
    # the present fault (P030100) is detected again; P017100 only "not completed" (0x50)
    assert engine.ask(b"\x19\x0a") == b"\x59\x0a\xff\x03\x01\x00\x27\x01\x71\x00\x50"


# -- 0x19 ReadDTCInformation ------------------------------------------------------------

def test_read_dtc_information(engine: RawTester) -> None:
    assert engine.ask(b"\x19\x01\x2f") == b"\x59\x01\xff\x01\x00\x02"  # ISO 14229-1 format
    assert engine.ask(b"\x19\x01\x01") == b"\x59\x01\xff\x01\x00\x01"
    assert engine.ask(b"\x19\x02\x2f") == b"\x59\x02\xff\x03\x01\x00\x2f\x01\x71\x00\x28"
    assert engine.ask(b"\x19\x02\x01") == b"\x59\x02\xff\x03\x01\x00\x2f"
    assert engine.ask(b"\x19\x0a") == b"\x59\x0a\xff\x03\x01\x00\x2f\x01\x71\x00\x28"
    assert engine.ask(b"\x19\x04\x03\x01\x00\xff") == (
        b"\x59\x04\x03\x01\x00\x2f" + b"\x01\x02" + b"\x90\x00\x0b\xb8" + b"\x90\x01\x5a")
    assert engine.ask(b"\x19\x04\x03\x01\x00\x01") == (
        b"\x59\x04\x03\x01\x00\x2f\x01\x02\x90\x00\x0b\xb8\x90\x01\x5a")
    assert engine.ask(b"\x19\x06\x03\x01\x00\xff") == b"\x59\x06\x03\x01\x00\x2f\x01\x03\x02\x0a"
    assert engine.ask(b"\x19\x06\x03\x01\x00\x02") == b"\x59\x06\x03\x01\x00\x2f\x02\x0a"
    assert engine.ask(b"\x19\x04\x12\x34\x56\xff") == b"\x7f\x19\x31"
    assert engine.ask(b"\x19\x06\x03\x01\x00\x07") == b"\x7f\x19\x31"
    assert engine.ask(b"\x19\x03") == b"\x7f\x19\x12"
    assert engine.ask(b"\x19\x02") == b"\x7f\x19\x13"
    assert engine.ask(b"\x19") == b"\x7f\x19\x13"


def test_dtc_format_identifier_of_a_j1939_ecu(tmp_path: Path) -> None:
    with bench(tmp_path, extra=J1939_ECU) as conn:
        t = RawTester(conn, "RETARDER")
        try:
            assert t.ask(b"\x19\x01\xff") == b"\x59\x01\xff\x02\x00\x02"  # SAE J1939-73
            # SPN 110 FMI 0: SPN bits 7-0, bits 15-8, bits 18-16 | FMI
            assert t.ask(b"\x19\x02\x2f") == b"\x59\x02\xff\x6e\x00\x00\x2f\xff\xff\xff\x08"
        finally:
            t.close()


# -- 0x22 ReadDataByIdentifier / 0x2E WriteDataByIdentifier -----------------------------

def test_read_data_by_identifier(engine: RawTester) -> None:
    assert engine.ask(b"\x22\xf1\x88") == b"\x62\xf1\x88SW04001"
    assert engine.ask(b"\x22\xf1\x88\xf1\x8a") == b"\x62\xf1\x88SW04001\xf1\x8aBosch"
    assert engine.ask(b"\x22\xf1\x88\x12\x34") == b"\x62\xf1\x88SW04001"  # unknown DID skipped
    assert engine.ask(b"\x22\x12\x34") == b"\x7f\x22\x31"
    assert engine.ask(b"\x22\xf1\x88\xf1") == b"\x7f\x22\x13"


def test_write_data_by_identifier(engine: RawTester) -> None:
    assert engine.ask(b"\x2e\xf1\x98ABCDEF") == b"\x7f\x2e\x7f"
    extended(engine)
    assert engine.ask(b"\x2e\xf1\x98ABCDEF") == b"\x7f\x2e\x33"
    unlocked(engine)
    assert engine.ask(b"\x2e\xf1\x98ABCDE") == b"\x7f\x2e\x13"
    assert engine.ask(b"\x2e\xf1\x88ABCDEF") == b"\x7f\x2e\x31"
    assert engine.ask(b"\x2e\xf1\x98ABCDEF") == b"\x6e\xf1\x98"
    assert engine.ask(b"\x22\xf1\x98") == b"\x62\xf1\x98ABCDEF"


# -- 0x27 SecurityAccess ----------------------------------------------------------------

def test_security_access(engine: RawTester) -> None:
    assert engine.ask(b"\x27\x01") == b"\x7f\x27\x7f"
    extended(engine)
    assert engine.ask(b"\x27\x02\x00\x00\x00\x00") == b"\x7f\x27\x24"
    assert engine.ask(b"\x27\x05") == b"\x7f\x27\x12"
    assert engine.ask(b"\x27\x01\x00") == b"\x7f\x27\x13"
    seed = engine.ask(b"\x27\x01")[2:]
    wrong = bytes(b ^ 0xFF for b in demo_key(seed, 1))
    assert engine.ask(b"\x27\x02" + wrong) == b"\x7f\x27\x35"
    seed = engine.ask(b"\x27\x03")[2:]
    assert engine.ask(b"\x27\x04" + demo_key(seed, 3)) == b"\x67\x04"
    assert engine.ask(b"\x27\x03") == b"\x67\x03\x00\x00\x00\x00"  # already unlocked


# -- 0x28 CommunicationControl / 0x85 ControlDTCSetting ---------------------------------

def test_communication_control(engine: RawTester) -> None:
    assert engine.ask(b"\x28\x01\x01") == b"\x7f\x28\x7f"
    extended(engine)
    assert engine.ask(b"\x28\x01\x01") == b"\x68\x01"
    assert engine.ask(b"\x28\x00\x03") == b"\x68\x00"
    assert engine.ask(b"\x28\x04\x01") == b"\x7f\x28\x12"
    assert engine.ask(b"\x28\x01\x00") == b"\x7f\x28\x31"
    assert engine.ask(b"\x28\x01") == b"\x7f\x28\x13"


def test_control_dtc_setting(engine: RawTester) -> None:
    assert engine.ask(b"\x85\x02") == b"\x7f\x85\x7f"
    extended(engine)
    assert engine.ask(b"\x85\x02") == b"\xc5\x02"
    assert engine.ask(b"\x85\x01") == b"\xc5\x01"
    assert engine.ask(b"\x85\x03") == b"\x7f\x85\x12"


# -- 0x31 RoutineControl ----------------------------------------------------------------

def test_routine_control(engine: RawTester) -> None:
    assert engine.ask(b"\x31\x01\x02\x02") == b"\x7f\x31\x7f"
    extended(engine)
    assert engine.ask(b"\x31\x03\x02\x02") == b"\x7f\x31\x24"  # results before start
    assert engine.ask(b"\x31\x01\x02\x02") == b"\x71\x01\x02\x02\x00"
    assert engine.ask(b"\x31\x03\x02\x02") == b"\x71\x03\x02\x02\x00"
    assert engine.ask(b"\x31\x02\x02\x02") == b"\x71\x02\x02\x02\x00"
    assert engine.exchange(b"\x31\x01\x02\x03") == [PENDING, b"\x71\x01\x02\x03\x00"]
    assert engine.ask(b"\x31\x01\x09\x99") == b"\x7f\x31\x31"
    assert engine.ask(b"\x31\x04\x02\x02") == b"\x7f\x31\x12"
    assert engine.ask(b"\x31\x01\x02") == b"\x7f\x31\x13"


def test_suppress_bit_after_pending_still_sends_the_final_answer(engine: RawTester) -> None:
    """ISO 14229-1: a server that sent 0x78 sends its final positive answer even when the
    request had the suppress-positive-response bit set."""
    extended(engine)
    assert engine.exchange(b"\x31\x81\x02\x03") == [PENDING, b"\x71\x01\x02\x03\x00"]
    engine.send(b"\x31\x81\x02\x02")  # no 0x78 here: the positive answer stays suppressed
    assert engine.ask(b"\x3e\x00") == b"\x7e\x00"


# -- 0x3E TesterPresent and unknown services --------------------------------------------

def test_tester_present_and_unknown_service(engine: RawTester) -> None:
    assert engine.ask(b"\x3e\x00") == b"\x7e\x00"
    assert engine.ask(b"\x3e\x05") == b"\x7f\x3e\x12"
    assert engine.ask(b"\x3e\x85") == b"\x7f\x3e\x12"  # NRCs are sent despite the bit
    assert engine.ask(b"\x3e\x00\x00") == b"\x7f\x3e\x13"
    engine.send(b"\x3e\x80")
    assert engine.ask(b"\x3d\x11\x00\x00\x00\x01\xaa") == b"\x7f\x3d\x11"


# -- C5: a service slots in without touching the dispatcher -----------------------------

def test_a_bootloader_service_slots_in(tmp_path: Path) -> None:
    def request_download(ecu: object, req: bytes) -> bytes:
        return b"\x74\x20\x0f\xff"  # lengthFormat 0x20, maxNumberOfBlockLength 0x0FFF

    with bench(tmp_path) as conn:
        assert conn.simulator is not None
        server = conn.simulator.ecus["ENGINE"].server
        server.add_service(0x34, ServiceSpec(request_download, frozenset({PROGRAMMING}), 3,
                                             False))
        t = RawTester(conn, "ENGINE")
        try:
            assert t.ask(b"\x34\x00\x44\x00\x00\x00\x00\x00\x00\x10\x00") == b"\x7f\x34\x7f"
            assert t.ask(b"\x10\x03") == b"\x50\x03" + SESSION_TIMING
            assert t.ask(b"\x10\x02") == b"\x50\x02" + SESSION_TIMING
            assert t.ask(b"\x34\x00\x44\x00\x00\x00\x00\x00\x00\x10\x00") == b"\x74\x20\x0f\xff"
        finally:
            t.close()
