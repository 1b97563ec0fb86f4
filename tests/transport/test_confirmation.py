"""A tester's ISO-TP link confirms a send only once its last frame has left (T_Data.con),
the moment from which ISO 14229-2 times P2."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from workshop.transport.adapters import AdapterConfig, open_bus
from workshop.transport.confirmation import SendNotConfirmedError
from workshop.transport.isotp_link import LinkAddress, LinkParams, RoutedLink, open_link
from workshop.transport.router import BusEndpoint

ADDR = LinkAddress("normal_11bit", 0x7E0, 0x7E8, 0x7DF)


class GateTx:
    """Stands in for the bus: each frame's send blocks until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def send(self, msg: Any, timeout: float | None = None) -> None:
        self.entered.set()
        assert self.gate.wait(10)


@pytest.fixture
def link() -> Iterator[RoutedLink]:
    endpoint = BusEndpoint(open_bus(AdapterConfig(channel=f"test-{uuid.uuid4()}")))
    tester = open_link(endpoint, ADDR, LinkParams(rx_timeout_ms=100))
    tester.start()
    try:
        yield tester
    finally:
        tester.close()
        endpoint.close()


def test_send_returns_only_after_its_last_frame_has_left(link: RoutedLink) -> None:
    # can-isotp completes a send when it hands out the last frame; that is too early.
    tx = link.tx = GateTx()
    returned = threading.Event()
    sender = threading.Thread(target=lambda: (link.send_confirmed(b"\x10\x02"),
                                              returned.set()))
    sender.start()
    assert tx.entered.wait(10)  # the single frame is being transmitted, not yet gone
    assert not returned.is_set()
    tx.gate.set()
    sender.join(10)
    assert returned.is_set()


def test_no_flow_control_is_no_confirmation(link: RoutedLink) -> None:
    with pytest.raises(SendNotConfirmedError) as exc:
        link.send_confirmed(bytes(100))  # a first frame that nobody answers
    assert "no flow control" in str(exc.value)


def test_bus_off_is_no_confirmation(link: RoutedLink) -> None:
    link.endpoint.bus.wire.bus_off = True  # type: ignore[attr-defined]
    with pytest.raises(SendNotConfirmedError) as exc:
        link.send_confirmed(b"\x3e\x00")
    assert "cannot transmit" in str(exc.value) and "bus-off" in str(exc.value)
