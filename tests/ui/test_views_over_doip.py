"""Every view over Ethernet: the app connected to the simulated vehicle behind its DoIP
gateway reads and clears DTCs, flashes, shows the DoIP trace, reads live data and verifies
its audit log, on real widgets, over real TCP on loopback."""

from __future__ import annotations

from tests.ui.conftest import scan
from tests.ui.test_connection_doip import choose, reconnect
from ui.main_window import MainWindow
from workshop.services.trace import DoipTraceFrame

RPM = 0xF40C


def test_every_view_works_over_doip(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    choose(window, "Simulated vehicle over DoIP")
    reconnect(qtbot, window)
    assert window.session.conn.doip is not None
    scan(qtbot, window)

    faults = window.views["FaultsView"]
    codes = {faults.table.item(r, 1).text() for r in range(faults.table.rowCount())}
    assert "P030100" in codes
    faults.confirm = lambda text: True
    with qtbot.waitSignal(window.session.runner.busy_changed, timeout=30000,
                          check_params_cb=lambda busy: not busy):
        faults.clear_all()  # functional, through the gateway's functional address
    qtbot.waitUntil(lambda: "ENGINE: cleared" in faults.outcome.toPlainText(), timeout=30000)

    update = window.views["UpdateView"]
    update.package.setCurrentText("engine-1.1.0")
    update.plan_button.click()
    qtbot.waitUntil(lambda: update.flash_button.isEnabled(), timeout=30000)
    update.confirm = lambda text: True
    update.flash_button.click()
    qtbot.waitUntil(lambda: "SUCCESS" in update.result.toPlainText(), timeout=60000)
    assert "1.0.0 → 1.1.0" in update.result.toPlainText()

    trace = window.views["TraceView"]
    window.tabs.setCurrentWidget(trace)  # a hidden trace view lays out no rows
    qtbot.waitUntil(lambda: any(isinstance(r, DoipTraceFrame) for r in trace.model.rows),
                    timeout=20000)

    live = window.views["LiveView"]
    window.tabs.setCurrentWidget(live)
    live.choose([RPM])
    live.start_button.click()
    qtbot.waitUntil(lambda: len(live.plots.data(RPM)[1]) >= 3, timeout=30000)
    with qtbot.waitSignal(window.session.runner.busy_changed, timeout=30000):
        live.start_button.click()  # Stop
    qtbot.waitUntil(lambda: live.start_button.text() == "Start", timeout=30000)

    audit = window.views["AuditView"]
    audit.refresh()
    qtbot.waitUntil(lambda: audit.table.rowCount() >= 2, timeout=20000)
    audit.verify()
    qtbot.waitUntil(lambda: "VERIFIED" in audit.result.toPlainText(), timeout=20000)
