"""Opening adapters: the simulator by name, and clear errors for the rest."""

from __future__ import annotations

import uuid

import can
import pytest

from workshop.transport.adapters import AdapterConfig, detect_adapters, interface_names, open_bus
from workshop.transport.errors import AdapterNotAvailableError


def test_every_python_can_interface_is_nameable() -> None:
    names = interface_names()
    assert names[0] == "sim"
    assert set(can.interfaces.VALID_INTERFACES) <= set(names)


def test_unknown_adapter_says_how_to_list_them() -> None:
    with pytest.raises(AdapterNotAvailableError) as err:
        open_bus(AdapterConfig(interface="no-such-adapter"))
    assert "workshop adapters" in str(err.value)


def test_unplugged_adapter_gives_a_clear_error() -> None:
    # socketcan on a channel that does not exist stands for an unplugged USB adapter.
    with pytest.raises(AdapterNotAvailableError) as err:
        open_bus(AdapterConfig(interface="socketcan", channel=f"nocan{uuid.uuid4().hex[:4]}"))
    assert "plugged in" in str(err.value)


def test_sim_frames_cross_between_two_buses() -> None:
    cfg = AdapterConfig(channel=f"t-{uuid.uuid4()}")
    a, b = open_bus(cfg), open_bus(cfg)
    try:
        a.send(can.Message(arbitration_id=0x123, data=b"\x01\x02", is_extended_id=False))
        msg = b.recv(timeout=5)
        assert msg is not None and msg.arbitration_id == 0x123 and bytes(msg.data) == b"\x01\x02"
    finally:
        a.shutdown()
        b.shutdown()


def test_detection_lists_the_simulator_first() -> None:
    found = detect_adapters(timeout_s=10)
    assert found[0].interface == "sim"
