"""The bus trace view over DoIP: the connection's DoIP messages as rows with source and
target logical addresses, payload type and the UDS payload in words (real gateway, real
DoIP and UDS stack, offscreen widgets)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ui.session import Session
from ui.views.trace_view import TraceView
from workshop.services.connection import VehicleConnection
from workshop.services.trace import DoipTraceFrame
from workshop.simulator.doip_gateway import DoipGateway
from workshop.transport.doip import DoipConnection
from workshop.uds.client import EcuClient
from workshop.uds.errors import NegativeResponseError


@pytest.fixture
def gateway(demo: VehicleConnection) -> Iterator[DoipGateway]:
    assert demo.simulator is not None
    with DoipGateway(demo.simulator, announce_port=None) as gw:
        yield gw


def test_trace_view_shows_doip_messages(qtbot, demo: VehicleConnection,  # type: ignore[no-untyped-def]
                                        gateway: DoipGateway, tmp_path: Path) -> None:
    session = Session()
    view = TraceView(session)
    qtbot.addWidget(view)
    view.resize(1100, 420)
    view.show()
    session.connected.emit(demo)
    assert view.trace is not None
    ecu = demo.vehicle.ecus[0]
    address = gateway.addresses[ecu.name]
    target = dataclasses.replace(demo.target(ecu), doip_address=address)
    with DoipConnection("127.0.0.1", gateway.port) as conn:
        view.trace.attach_doip(conn)
        with EcuClient(conn, target) as client:
            client.read_did(0xF190)
            with pytest.raises(NegativeResponseError):
                client.read_did(0x0BAD)
            with pytest.raises(NegativeResponseError):  # no download requested
                client.transfer_data(1, bytes(4000))  # one classic ISO-TP message on CAN
    view.id_filter.setText(f"{address:X}")  # the ECU's DoIP address filters its rows
    qtbot.waitUntil(lambda: len(view.model.rows) >= 9, timeout=10000)
    rows = list(view.model.rows)
    assert all(isinstance(r, DoipTraceFrame) for r in rows)
    cells = [[view.model.data(view.model.index(i, c)) for c in range(6)]
             for i in range(len(rows))]
    request = next(c for c in cells if c[5].endswith("ReadDataByIdentifier request DID 0xF190"))
    assert request[1] == "tx" and request[2] == f"0E00 \u2192 {address:04X}"
    assert request[4] == "22 F1 90" and request[3] == "3"
    answer = next(c for c in cells if "ReadDataByIdentifier answer DID 0xF190" in c[5])
    assert answer[1] == "rx" and answer[2] == f"{address:04X} \u2192 0E00"
    assert any(c[5] == "diagnostic message ACK" for c in cells)
    assert any("refused: requestOutOfRange" in c[5] for c in cells)
    block = next(c for c in cells if "TransferData request" in c[5])
    assert block[3] == "4002" and block[4].endswith("\u2026")  # a big one: its head shown
    assert block[5].endswith("TransferData request block 1, 4000 bytes")
    kept = next(r for r in rows if r.length == 4002)
    assert len(kept.data) < 1024  # the trace keeps a big message's first bytes only
    view.grab().save(str(tmp_path / "trace_doip.png"))
    if os.environ.get("WORKSHOP_SHOT_DIR"):
        view.grab().save(str(Path(os.environ["WORKSHOP_SHOT_DIR"]) / "trace_doip.png"))
    session.disconnected.emit()
