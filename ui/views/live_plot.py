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
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from workshop.diagnostics.live import Signal

WINDOW_S = 30.0  # what the plots show: the last half minute
KEEP_POINTS = 4000  # per signal: 20 Hz for over three minutes
# distinguishable on light and dark backgrounds (Okabe-Ito), beside each strip's own label
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8c6d31",
           "#999999"]


class Trace:
    """One signal's points, and its curve once its strip is laid out."""

    def __init__(self, signal: Signal, colour: str) -> None:
        self.signal, self.colour = signal, colour
        self.t: deque[float] = deque(maxlen=KEEP_POINTS)
        self.v: deque[float] = deque(maxlen=KEEP_POINTS)
        self.curve: pg.PlotDataItem | None = None
        self.dirty = False
        self.shown: tuple[float, float] | None = None  # the y range set last
        self.wanted: tuple[float, float] | None = None  # what the values span now

    def attach(self, plot: pg.PlotItem) -> None:
        self.curve = plot.plot(pen=pg.mkPen(self.colour, width=1))
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        self.dirty = True

    def add(self, t: float, value: float) -> None:
        self.t.append(t)
        self.v.append(value)
        self.dirty = True

    def draw(self, now: float) -> None:
        """Redrawn against `now`: x is seconds ago, so the axes stay still and only the
        curves move (an axis whose range changes is laid out and painted again)."""
        if self.curve is None:
            return
        t = np.fromiter(self.t, float, len(self.t)) - now
        v = np.fromiter(self.v, float, len(self.v))
        self.curve.setData(t, v)
        self.dirty = False
        visible = v[t >= -WINDOW_S]
        self.wanted = (float(visible.min()), float(visible.max())) if visible.size else None

    def needs_fit(self) -> bool:
        """The values left the y range, or fill less than a third of it."""
        if self.wanted is None:
            return False
        if self.shown is None:
            return True
        low, high = self.wanted
        lo, hi = self.shown
        return low < lo or high > hi or hi - lo > 3 * 2 * _span(low, high)

    def fit(self) -> None:
        """A y range with half the values' span of room on each side: a new axis (tens of
        ms to paint) is then needed only now and then, not on every new value."""
        if self.wanted is None or self.curve is None:
            return
        low, high = self.wanted
        span = _span(low, high)
        self.shown = (low - span / 2, high + span / 2)
        self.curve.getViewBox().setYRange(*self.shown, padding=0)


def _span(low: float, high: float) -> float:
    return max(high - low, abs(high) * 0.02, 1e-3)


class LivePlots(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.layout.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.traces: dict[int, Trace] = {}
        self._layout: list[Trace] = []
        self.plots: list[pg.PlotItem] = []
        self.t0: float | None = None
        self.latest = 0.0

    def _colours(self) -> tuple[str, str]:
        palette = self.palette()
        return (palette.color(QPalette.ColorRole.Base).name(),
                palette.color(QPalette.ColorRole.Text).name())

    def show_signals(self, signals: list[Signal]) -> None:
        """A fresh strip per signal (name and unit above it), laid out one per turn of the
        event loop: building all eight at once held the GUI for a few hundred ms."""
        self.graphics.clear()
        self.plots = []
        self.t0 = None
        self.latest = 0.0
        self.graphics.setBackground(self._colours()[0])
        self.traces = {s.did: Trace(s, COLOURS[i % len(COLOURS)])
                       for i, s in enumerate(signals)}
        self._layout = list(self.traces.values())
        self._build_next()

    @property
    def layout_pending(self) -> bool:
        """Strips still to be laid out after show_signals."""
        return bool(self._layout)

    def _build_next(self) -> None:
        if not self._layout or self._layout[0] is not self.traces.get(
                self._layout[0].signal.did):
            return  # done, or signals chosen again meanwhile
        trace = self._layout.pop(0)
        count = len(self.traces)
        columns = 2 if count > 4 else 1  # strips tall enough to read a curve
        i = len(self.plots)
        row, col = i // columns, i % columns
        plot = self.graphics.addPlot(row=row, col=col)
        self._style(plot, trace.signal, bottom=i + columns >= count)
        self.plots.append(plot)
        trace.attach(plot)
        if self._layout:
            QTimer.singleShot(0, self._build_next)

    def _style(self, plot: pg.PlotItem, signal: Signal, bottom: bool) -> None:
        text = self._colours()[1]
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=True)
        label = f"{signal.name} [{signal.unit}]" if signal.unit else signal.name
        plot.setTitle(label, color=text, size="9pt", justify="left")
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setTextPen(text)
            axis.setPen(text)
            # painted once into a pixmap and blitted while the curves move: replaying an
            # axis with its grid lines was most of each frame's time
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            axis.setStyle(maxTickLevel=1)  # major and minor grid lines: half the drawing
        plot.getAxis("left").setWidth(52)
        plot.getAxis("bottom").setStyle(showValues=bottom)  # the bottom of its column
        if bottom:
            plot.setLabel("bottom", "seconds ago", color=text)
        plot.setXRange(-WINDOW_S, 0, padding=0)
        plot.disableAutoRange()

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
        if any(trace.dirty for trace in self.traces.values()):
            for trace in self.traces.values():
                trace.draw(self.latest)
            # one new y axis per tick at most: several in one frame held the GUI
            # (the others follow on the next ticks, their curves clipped meanwhile)
            due = [trace for trace in self.traces.values() if trace.needs_fit()]
            if due:
                due[0].fit()

    def data(self, did: int) -> tuple[list[float], list[float]]:
        trace = self.traces[did]
        return list(trace.t), list(trace.v)
