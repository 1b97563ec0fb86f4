"""The status bar's central-store line: hidden without a store; the records waiting; an
unreachable store; a tamper alarm in the alarm colour. (Sync itself is tested on a real
PostgreSQL in tests/store; here the app only reads its state.)"""

from __future__ import annotations

import json
from dataclasses import replace

from ui.main_window import MainWindow
from workshop.audit import default_log_path
from workshop.foundation.settings import load_settings, save_settings
from workshop.services.sync import state_path


def test_store_line_follows_the_sync_state(qtbot, window: MainWindow) -> None:
    window.refresh_store_state()
    assert not window.store_state.isVisible()  # no store configured
    save_settings(replace(load_settings(), store="host=127.0.0.1 port=1 dbname=x user=ws"))
    window.refresh_store_state()
    assert window.store_state.isVisible()
    assert "not synced yet" in window.store_state.text()
    log = default_log_path()
    state = {"store": "host=127.0.0.1", "log": "", "local_seq": 0, "server_seq": 0,
             "pushed": 0, "head_seq": 0, "time": "2026-12-06T10:00:00.000000Z",
             "alarm": None, "unreachable": True, "pulled": [], "refused": []}
    state_path(log).parent.mkdir(parents=True, exist_ok=True)
    state_path(log).write_text(json.dumps(state))
    window.refresh_store_state()
    assert "unreachable at 2026-12-06 10:00 UTC" in window.store_state.text()
    state |= {"unreachable": False, "alarm": "the log was cut back"}
    state_path(log).write_text(json.dumps(state))
    window.refresh_store_state()
    assert "TAMPER ALARM: the log was cut back" in window.store_state.text()
    assert "color" in window.store_state.styleSheet()
