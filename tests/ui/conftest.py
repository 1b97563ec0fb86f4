"""GUI tests: real widgets, offscreen, over the real simulator and stack; every worker thread
is gone after each test."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: object) -> Iterator[MainWindow]:
    before = {t.ident for t in threading.enumerate()}
    w = MainWindow("demo-car", channel=f"gui-{uuid.uuid4()}")
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.show()
    with qtbot.waitSignal(w.session.connected, timeout=20000):  # type: ignore[attr-defined]
        w.panel.toggle()
    yield w
    w.close()
    qtbot.waitUntil(lambda: not w.session.runner.busy, timeout=20000)  # type: ignore[attr-defined]
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()
            and not t.daemon]
    assert not left, f"threads left running: {left}"


def scan(qtbot: object, w: MainWindow) -> object:
    with qtbot.waitSignal(w.session.scan_done, timeout=30000) as blocker:  # type: ignore[attr-defined]
        w.views["VehicleView"].scan_button.click()  # type: ignore[attr-defined]
    return blocker.args[0]
