"""Scrolling plots of live values: one strip per signal, stacked, sharing the time axis.

pyqtgraph draws them: it is made for fast live plots in Qt (a curve takes a new array in a
call, clipped and downsampled to what the view shows), pure Python over numpy, supports
PySide6 and is MIT-licensed. Points are kept per signal in a bounded ring, so a long session
neither slows the drawing nor grows memory.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from workshop.diagnostics.live import Signal

WINDOW_S = 30.0  # what the plots show: the last half minute
KEEP_POINTS = 4000  # per signal: 20 Hz for over three minutes
# distinguishable on light and dark backgrounds (Okabe-Ito), beside each strip's own label
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8c6d31",
           "#999999"]


class Trace:
    """One signal's points and its curve."""

    def __init__(self, plot: pg.PlotItem, colour: str) -> None:
        self.t: deque[float] = deque(maxlen=KEEP_POINTS)
        self.v: deque[float] = deque(maxlen=KEEP_POINTS)
        self.curve = plot.plot(pen=pg.mkPen(colour, width=2))
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        self.dirty = False

    def add(self, t: float, value: float) -> None:
        self.t.append(t)
        self.v.append(value)
        self.dirty = True

    def draw(self) -> None:
        if self.dirty:
            self.curve.setData(np.fromiter(self.t, float, len(self.t)),
                               np.fromiter(self.v, float, len(self.v)))
            self.dirty = False


class LivePlots(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.layout.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.traces: dict[int, Trace] = {}
        self.plots: list[pg.PlotItem] = []
        self.t0: float | None = None
        self.latest = 0.0

    def _colours(self) -> tuple[str, str]:
        palette = self.palette()
        return (palette.color(QPalette.ColorRole.Base).name(),
                palette.color(QPalette.ColorRole.Text).name())

    def show_signals(self, signals: list[Signal]) -> None:
        """A fresh strip per signal (name and unit on its axis), the time axis shared."""
        self.graphics.clear()
        self.traces.clear()
        self.plots = []
        self.t0 = None
        self.latest = 0.0
        background, text = self._colours()
        self.graphics.setBackground(background)
        columns = 2 if len(signals) > 4 else 1  # strips tall enough to read a curve
        rows = -(-len(signals) // columns)
        for i, signal in enumerate(signals):
            row, col = i // columns, i % columns
            plot = self.graphics.addPlot(row=row, col=col)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=True)
            label = f"{signal.name} [{signal.unit}]" if signal.unit else signal.name
            plot.setTitle(label, color=text, size="9pt", justify="left")
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setTextPen(text)
                axis.setPen(text)
            plot.getAxis("left").setWidth(52)
            last = row == rows - 1 or i + columns >= len(signals)  # bottom of its column
            plot.getAxis("bottom").setStyle(showValues=last)
            if last:
                plot.setLabel("bottom", "time", units="s", color=text)
            if self.plots:
                plot.setXLink(self.plots[0])
            self.plots.append(plot)
            self.traces[signal.did] = Trace(plot, COLOURS[i % len(COLOURS)])
        if self.plots:
            self.plots[0].setXRange(0, WINDOW_S, padding=0)

    def add(self, did: int, when: float, value: float) -> None:
        trace = self.traces.get(did)
        if trace is None:
            return
        if self.t0 is None:
            self.t0 = when
        t = when - self.t0
        self.latest = max(self.latest, t)
        trace.add(t, value)

    def draw(self) -> None:
        """Once per timer tick, whatever number of values came in meanwhile."""
        for trace in self.traces.values():
            trace.draw()
        if self.plots:
            end = max(self.latest, WINDOW_S)
            self.plots[0].setXRange(end - WINDOW_S, end, padding=0)

    def data(self, did: int) -> tuple[list[float], list[float]]:
        trace = self.traces[did]
        return list(trace.t), list(trace.v)
