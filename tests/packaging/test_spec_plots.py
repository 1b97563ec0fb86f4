"""The bundle leaves out Qt modules the app does not use; the live plots (pyqtgraph) must
still import and draw without them. Cheap stand-in for the slow bundle build."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib.abc, sys
EXCLUDED = set(sys.argv[1:])
class Excluded(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in EXCLUDED:
            raise ImportError(name + " is left out of the bundle")
sys.meta_path.insert(0, Excluded())
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.views.live_plot import LivePlots
from workshop.diagnostics.live import Signal
plots = LivePlots()
plots.show_signals([Signal(0xF40C, None)])
plots.add(0xF40C, 0.0, 800.0)
plots.add(0xF40C, 1.0, 900.0)
plots.draw()
assert not plots.grab().isNull()
"""


def test_live_plots_work_without_the_qt_modules_the_spec_leaves_out() -> None:
    spec = (ROOT / "packaging" / "workshop.spec").read_text(encoding="utf-8")
    block = spec[spec.index("excludes = ["):spec.index("a = Analysis(")]
    excluded = [f"PySide6.{m}" for m in re.findall(r'"(Qt\w+)"', block)]
    assert "PySide6.QtSvg" in excluded  # the list was read
    assert '"PySide6.QtOpenGL"' in spec  # pyqtgraph's importlib imports are listed
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", PROBE, *excluded], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
