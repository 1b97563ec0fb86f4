"""The connection panel for real adapters: interface, channel, standard bitrates, CAN FD data
bitrate, remembered per user; hints in the app never quote command-line flags."""

from __future__ import annotations

import uuid

from ui.main_window import MainWindow
from workshop.foundation.settings import load_settings, save_settings
from workshop.services.session import BITRATES, DATA_BITRATES


def test_bitrates_are_the_standard_values(qtbot, window: MainWindow) -> None:
    panel = window.panel
    rates = [panel.bitrate.itemData(i) for i in range(panel.bitrate.count())]
    assert rates == [None, *BITRATES] and 625_000 not in rates
    data = [panel.data_bitrate.itemData(i) for i in range(panel.data_bitrate.count())]
    assert data == [None, *DATA_BITRATES]
    assert not panel.data_bitrate.isEnabled()
    panel.fd.setChecked(True)
    assert panel.data_bitrate.isEnabled()
    assert "socketcan" in [panel.interface.itemText(i) for i in range(panel.interface.count())]


def test_the_choice_is_remembered_and_restored(qtbot, window: MainWindow) -> None:
    panel = window.panel
    panel.toggle()  # disconnect, then connect at 250 kbit/s on the simulator
    qtbot.waitUntil(lambda: window.session.conn is None, timeout=10000)
    panel.bitrate.setCurrentIndex(panel.bitrate.findData(250_000))
    with qtbot.waitSignal(window.session.connected, timeout=20000):
        panel.toggle()
    assert window.session.conn.adapter.bitrate == 250_000
    assert "250 kbit/s" in panel.state.text()
    saved = load_settings()
    assert (saved.adapter_interface, saved.adapter_bitrate) == ("sim", "250000")
    # a real adapter saved earlier comes back in a new window
    save_settings(load_settings().__class__(**{**saved.__dict__,
                                               "adapter_interface": "socketcan",
                                               "adapter_channel": "can0",
                                               "adapter_bitrate": "500000",
                                               "adapter_data_bitrate": "2000000"}))
    other = MainWindow("demo-car")
    qtbot.addWidget(other)
    p = other.panel
    assert (p.interface.currentText(), p.channel.text()) == ("socketcan", "can0")
    assert p.bitrate.currentData() == 500_000
    assert p.fd.isChecked() and p.data_bitrate.currentData() == 2_000_000
    other.close()


def test_a_data_bitrate_without_can_fd_is_refused_in_app_words(qtbot,
                                                               window: MainWindow) -> None:
    from ui.session import Session
    session = Session()
    failed: list[tuple[str, str]] = []
    session.connect_failed.connect(lambda what, hint: failed.append((what, hint)))
    with qtbot.waitSignal(session.connect_failed, timeout=20000):
        session.connect_vehicle("demo-car", "sim", f"gui-{uuid.uuid4()}",
                                data_bitrate=2_000_000)
    assert "--" not in failed[0][1] and "CAN FD" in failed[0][1]
    session.shutdown()
