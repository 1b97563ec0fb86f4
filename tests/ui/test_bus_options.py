"""The connection panel's CAN FD box on a vehicle that does not use CAN FD: refused in words,
and the panel says it is not connected (it used to connect and change nothing)."""

from __future__ import annotations

from ui.main_window import MainWindow


def test_can_fd_on_a_vehicle_without_it_is_refused_in_words(qtbot, window: MainWindow) -> None:
    window.panel.toggle()  # disconnect
    qtbot.waitUntil(lambda: window.session.conn is None, timeout=10000)
    window.panel.fd.setChecked(True)
    with qtbot.waitSignal(window.session.connect_failed, timeout=20000):
        window.panel.toggle()
    assert "vehicle demo-car does not use CAN FD" in window.error.text()
    assert "What to do: leave CAN FD off" in window.error.text()
    assert window.panel.state.text() == "Not connected"
    assert window.panel.button.text() == "Connect"
