"""One receiver per CAN ID: a second client of the same ECU is refused, never steals."""

from __future__ import annotations

import threading

import can
import pytest

from workshop.services.connection import VehicleConnection
from workshop.transport.router import BusEndpoint, FrameRouter, LinkInUseError
from workshop.transport.simbus import SimulatedBus


def test_second_client_of_one_ecu_is_refused_and_first_keeps_answering(
        demo: VehicleConnection) -> None:
    with demo.client("ENGINE") as first:
        assert first.read_did(0xF188) == b"SW04001"
        with pytest.raises(LinkInUseError) as exc:
            demo.client("ENGINE")
        assert "ENGINE" in str(exc.value) and "0x7E8" in str(exc.value)
        assert "close the other client" in (exc.value.hint or "")
        assert first.read_did(0xF19E) == b"EV_ENGINE_001"  # nothing was stolen
        with demo.client("ABS") as other:  # another ECU on the same bus is fine
            assert other.read_did(0xF197) == b"ABS"
    with demo.client("ENGINE") as again:  # free once the first client closed
        assert again.read_did(0xF188) == b"SW04001"


def test_taps_watch_a_client_without_taking_its_frames(demo: VehicleConnection) -> None:
    assert demo.endpoint is not None
    seen: list[bytes] = []
    got_answer = threading.Event()

    def tap(msg: can.Message) -> None:
        if msg.arbitration_id == 0x7E8:
            seen.append(bytes(msg.data))
            got_answer.set()

    demo.endpoint.router.add_tap(tap)
    try:
        with demo.client("ENGINE") as ecu:
            assert ecu.read_did(0xF188) == b"SW04001"
        assert got_answer.wait(5)
    finally:
        demo.endpoint.router.remove_tap(tap)
    assert seen[0][2:5] == b"\x62\xf1\x88"  # first frame of the answer, seen by the trace


def test_unsubscribe_with_a_stale_queue_leaves_the_subscriber() -> None:
    router = FrameRouter()
    old = router.subscribe(0x7E8, False)
    router.unsubscribe(0x7E8, False, old)
    new = router.subscribe(0x7E8, False)
    router.unsubscribe(0x7E8, False, old)  # a late close of the old link
    router.on_message_received(can.Message(arbitration_id=0x7E8, is_extended_id=False,
                                           data=b"\x01\x02"))
    assert bytes(new.get(timeout=1).data) == b"\x01\x02"


def test_a_plain_python_can_node_reaches_the_simulated_bus_and_back() -> None:
    """The simulated bus hands frames to its router itself (no notifier thread); another
    program's python-can virtual bus on the same channel still sends to it and hears it."""
    channel = "router-plain-node"
    endpoint = BusEndpoint(SimulatedBus(channel=channel))
    heard: list[can.Message] = []
    got = threading.Event()
    endpoint.router.add_tap(lambda m: (heard.append(m), got.set()))
    try:
        with can.Bus(interface="virtual", channel=channel) as other:
            other.send(can.Message(arbitration_id=0x123, data=b"\x01\x02", is_extended_id=False))
            assert got.wait(5)
            endpoint.bus.send(can.Message(arbitration_id=0x456, data=b"\x03",
                                          is_extended_id=False))
            answer = other.recv(timeout=5)
    finally:
        endpoint.close()
    assert (heard[0].arbitration_id, bytes(heard[0].data)) == (0x123, b"\x01\x02")
    assert answer is not None and (answer.arbitration_id, bytes(answer.data)) == (0x456, b"\x03")
