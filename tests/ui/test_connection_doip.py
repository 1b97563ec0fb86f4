"""The connection panel over Ethernet: the simulated vehicle behind its DoIP gateway, scanned
in the Vehicle view; discovery of that gateway on loopback, picked from the list; the last
gateway (address, port, TLS) remembered for the next start."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from tests.ui.conftest import scan
from ui.main_window import MainWindow
from workshop.foundation.settings import load_settings, save_settings, settings_path
from workshop.services.sim_serve import ServedVehicle
from workshop.transport.adapters import DOIP, SIM_DOIP, AdapterConfig
from workshop.vehicles import load_vehicle


def choose(window: MainWindow, label: str) -> None:
    panel = window.panel
    index = panel.adapter.findText(label)
    assert index >= 0, label
    panel.adapter.setCurrentIndex(index)
    panel.adapter.activated.emit(index)


def reconnect(qtbot, window: MainWindow) -> None:
    panel = window.panel
    panel.toggle()  # the fixture connected over CAN: disconnect first
    qtbot.waitUntil(lambda: window.session.conn is None, timeout=10000)
    with qtbot.waitSignal(window.session.connected, timeout=30000):
        panel.toggle()


def test_simulated_vehicle_over_doip_is_scanned(qtbot, window: MainWindow) -> None:
    panel = window.panel
    choose(window, "Simulated vehicle over DoIP")
    assert panel.interface.currentText() == SIM_DOIP
    assert panel.doip_row.isVisible() and not panel.bitrate.isVisible()
    reconnect(qtbot, window)
    conn = window.session.conn
    assert conn.doip is not None and conn.gateway is not None
    assert "over DoIP" in panel.state.text()
    result = scan(qtbot, window)
    view = window.views["VehicleView"]
    assert view.table.rowCount() == len(result.ecus) == 7
    assert all(e.responded for e in result.ecus)


def test_discover_finds_the_simulated_gateway_and_picks_it(qtbot, window: MainWindow) -> None:
    panel = window.panel
    choose(window, "Simulated vehicle over DoIP")
    reconnect(qtbot, window)
    gateway = window.session.conn.gateway
    choose(window, "Ethernet (DoIP)")
    assert panel.host.isEnabled()
    panel.host.setText("127.0.0.1")
    panel.port.setValue(gateway.port)  # the simulated gateway's own free port
    panel.discover_button.click()
    qtbot.waitUntil(lambda: panel.gateways.count() == 1, timeout=30000)
    qtbot.waitUntil(lambda: panel.discover_button.isEnabled(), timeout=30000)
    label = panel.gateways.itemText(0)
    assert window.session.conn.vehicle.vin[:17] in label
    assert f"127.0.0.1 port {gateway.port}" in label and "TLS" in label
    panel.gateways.activated.emit(0)
    assert panel.interface.currentText() == DOIP
    assert (panel.host.text(), panel.port.value()) == ("127.0.0.1", gateway.port)


def test_ethernet_without_an_address_is_refused_in_words(qtbot, window: MainWindow) -> None:
    failed: list[tuple[str, str]] = []
    window.session.connect_failed.connect(lambda what, hint: failed.append((what, hint)))
    choose(window, "Ethernet (DoIP)")
    panel = window.panel
    panel.host.clear()
    panel.toggle()
    qtbot.waitUntil(lambda: window.session.conn is None, timeout=10000)
    with qtbot.waitSignal(window.session.connect_failed, timeout=20000):
        panel.toggle()
    assert "address" in failed[0][0] and "Discover" in failed[0][1]
    assert "--" not in failed[0][1]


def test_simulated_vehicle_over_doip_with_tls(qtbot, window: MainWindow) -> None:
    panel = window.panel
    choose(window, "Simulated vehicle over DoIP")
    panel.tls.setChecked(True)
    reconnect(qtbot, window)
    conn = window.session.conn
    assert conn.doip is not None and conn.doip.tls  # the demo PKI on both sides
    assert conn.gateway is not None and conn.gateway.tls_only
    assert "TLS" in panel.state.text()
    result = scan(qtbot, window)
    assert all(e.responded for e in result.ecus)


def test_tls_to_a_real_gateway_without_a_workstation_identity_says_what_to_do(
        qtbot, window: MainWindow) -> None:
    failed: list[tuple[str, str]] = []
    window.session.connect_failed.connect(lambda what, hint: failed.append((what, hint)))
    choose(window, "Ethernet (DoIP)")
    panel = window.panel
    panel.host.setText("127.0.0.1")
    panel.tls.setChecked(True)
    assert panel.port.value() == 3496
    panel.toggle()
    qtbot.waitUntil(lambda: window.session.conn is None, timeout=10000)
    with qtbot.waitSignal(window.session.connect_failed, timeout=20000):
        panel.toggle()
    assert "identity" in (failed[0][0] + failed[0][1]).lower(), failed


def test_the_last_gateway_comes_back_in_a_new_window(qtbot, window: MainWindow) -> None:
    panel = window.panel
    adapter = AdapterConfig(channel=f"gui-{uuid.uuid4()}")
    with ServedVehicle(load_vehicle("demo-car"), adapter, 0) as served:  # on loopback
        choose(window, "Ethernet (DoIP)")
        assert (panel.host.text(), panel.port.value()) == ("", 13400)  # nothing remembered
        panel.host.setText("127.0.0.1")
        panel.port.setValue(served.port)
        reconnect(qtbot, window)
        assert f"DoIP gateway 127.0.0.1 port {served.port}" in panel.state.text()
        with qtbot.waitSignal(window.session.disconnected, timeout=10000):
            panel.toggle()
    saved = load_settings()
    assert (saved.doip_host, saved.doip_port, saved.doip_tls) == ("127.0.0.1", served.port,
                                                                  False)
    other = MainWindow("demo-car")
    qtbot.addWidget(other)
    p = other.panel
    assert p.interface.currentText() == DOIP and p.host.isEnabled()
    assert (p.host.text(), p.port.value(), p.tls.isChecked()) == ("127.0.0.1", served.port,
                                                                  False)
    other.close()
    # the simulated gateway over DoIP keeps the real one (its port is its own)
    choose(window, "Simulated vehicle over DoIP")
    with qtbot.waitSignal(window.session.connected, timeout=30000):
        panel.toggle()
    assert load_settings().doip_port == served.port


def test_a_remembered_tls_gateway_and_a_planted_one(qtbot, window: MainWindow) -> None:
    # TLS on the usual plain port: ticking TLS must not move the remembered port to 3496
    save_settings(replace(load_settings(), adapter_interface="sim", doip_host="gw.local",
                          doip_port=13400, doip_tls=True))
    other = MainWindow("demo-car")
    qtbot.addWidget(other)
    choose(other, "Ethernet (DoIP)")  # the gateway is filled in when Ethernet is chosen
    p = other.panel
    assert (p.host.text(), p.port.value(), p.tls.isChecked()) == ("gw.local", 13400, True)
    other.close()
    settings_path().write_text(json.dumps({"adapter_interface": "doip",
                                           "doip_host": "\x1b]0;owned\x07 10.0.0.1",
                                           "doip_port": 99999, "doip_tls": "yes"}))
    planted = MainWindow("demo-car")
    qtbot.addWidget(planted)
    p = planted.panel
    assert (p.host.text(), p.port.value(), p.tls.isChecked()) == ("", 13400, False)
    said = planted.error.text()  # in the window, as the app says what is wrong on opening
    assert "doip_host is not an IP address or host name (it holds control characters)" in said
    assert "doip_port must be a port number from 1 to 65535, not 99999" in said
    assert "doip_tls must be true or false, not 'yes'" in said
    assert "\x1b" not in said and "\x07" not in said and "owned" in p.state.toolTip()
    planted.close()


def test_a_damaged_settings_file_still_opens_the_window(qtbot, window: MainWindow) -> None:
    """A bad value outside the gateway (theme) leaves the whole file unread: the window opens
    on the defaults and says what is wrong, instead of failing with a traceback."""
    settings_path().write_text(json.dumps({"theme": "purple"}))
    damaged = MainWindow("demo-car")
    qtbot.addWidget(damaged)
    assert damaged.panel.interface.currentText() == "sim"
    said = damaged.error.text()
    assert "settings not read, defaults shown" in said and "'purple'" in said
    assert "not known" in damaged.identity.text() and "'purple'" in damaged.identity.text()
    damaged.close()
