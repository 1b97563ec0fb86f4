"""Fleet: the dealer group's answers from the central store, in words: a vehicle's software
history across every workstation, the vehicles whose last known software is outside the
approved baseline, and DTC frequency by ECU and software version (with a chart: did a
release raise a DTC?). Every query runs on a worker thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import VERDICT_COLOURS, button, hbox, item, setup_table
from workshop.audit.wording import describe_record
from workshop.foundation.errors import ConfigError
from workshop.foundation.events import CancelToken
from workshop.foundation.settings import load_settings

HISTORY = ["When (UTC)", "Workstation", "Technician", "ECU", "Outcome", "What", "Package",
           "Package signer", "Log verified"]
DEVIATIONS = ["VIN", "Model", "ECU", "Runs", "Baseline approves", "Baseline",
              "Last seen (UTC)", "By"]
DTCS = ["ECU", "Software", "DTC", "Vehicles", "Times seen"]
# what a vehicle's history is about; the steps of each flash are there with "Every step"
MAIN_ACTIONS = {"flash", "flash.ecu", "dtc.clear", "store.alarm"}
ACTIONS = {"flash": "Flash", "flash.ecu": "Flash ECU", "flash.step": "Flash step",
           "dtc.clear": "Clear DTCs", "store.alarm": "TAMPER ALARM"}


def fleet_dsn() -> str:
    """The connection the answers come from: the Fleet setting, else the store."""
    s = load_settings()
    dsn = s.fleet_store or s.store
    if not dsn:
        raise ConfigError("no central store is configured",
                          hint="name it in Settings (Central store; for answers about every "
                               "workstation, an auditor's connection under Fleet view reads as)")
    return dsn


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ") if iso else ""


def _main(record: Any) -> bool:
    return record.action in MAIN_ACTIONS and not (
        record.action == "flash.ecu" and record.details.get("phase") == "intent")


def history_rows(entries: list[Any], every_step: bool = False) -> list[list[str]]:
    """One row per record, in words; a flash's package and its signer (named in the intent
    record) carried onto the per-ECU outcome records of the same flash."""
    rows, package = [], {}
    for e in entries:
        r, d = e.record, e.record.details
        request = d.get("request") if isinstance(d.get("request"), Mapping) else {}
        if r.action == "flash" and request.get("package"):
            # the signing certificate by name (its chain to the root: ask the audit log)
            signer = str(request.get("signer", "")).split(" <- ")[0]
            package[e.log] = (str(request["package"]), signer)
        pkg, signer = package.get(e.log, ("", "")) if r.action.startswith("flash") else ("", "")
        result = d.get("result") if isinstance(d.get("result"), Mapping) else {}
        outcome = str(d.get("outcome") or result.get("outcome") or
                      ("started" if d.get("phase") == "intent" else "done"))
        if not every_step and not _main(r):
            continue
        rows.append([_when(r.time), e.workstation, r.technician,
                     "all" if r.ecu in (None, "", "*") else r.ecu, outcome,
                     f"{ACTIONS.get(r.action, r.action)}: {describe_record(r.action, d)}",
                     pkg, signer, "yes" if e.verified else "NO: log fails"])
    return rows


class FleetView(QWidget):
    title = "Fleet"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.vin = QLineEdit()
        self.vin.setPlaceholderText("VIN, e.g. WDXDEMC12RA000001")
        self.vin.setMaxLength(17)
        self.vin.setMinimumWidth(220)
        self.vin.returnPressed.connect(self.show_history)
        self.every_step = QCheckBox("Every step")
        self.every_step.setToolTip("also each step of each flash (sessions, security access, "
                                   "transfer), as the audit log holds them")
        self.every_step.toggled.connect(lambda _on: self._history_again())
        self._entries: tuple[str, list[Any]] | None = None
        self.history = QTableWidget()
        setup_table(self.history, HISTORY)
        self.deviations = QTableWidget()
        setup_table(self.deviations, DEVIATIONS)
        self.dtcs = QTableWidget()
        setup_table(self.dtcs, DTCS)
        self.chart = pg.PlotWidget()
        self.bars: pg.BarGraphItem | None = None
        self.chart_labels: list[str] = []
        self._style_chart()
        self.note = QLabel("Answers come from the central store (Settings).")
        self.note.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._page(hbox(QLabel("VIN"), self.vin,
                                         button("Show history", self.show_history),
                                         self.every_step),
                                    self.history), "Vehicle history")
        self.tabs.addTab(self._page(hbox(button("Refresh", self.show_deviations)),
                                    self.deviations), "Outside the baseline")
        split = QSplitter()
        split.addWidget(self.chart)
        split.addWidget(self.dtcs)
        split.setSizes([520, 480])
        self.tabs.addTab(self._page(hbox(button("Refresh", self.show_dtcs)), split),
                         "DTCs by software")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.note)

    @staticmethod
    def _page(top: Any, body: QWidget) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(body)
        return page

    def _style_chart(self) -> None:
        palette = self.palette()
        self.chart.setBackground(palette.color(QPalette.ColorRole.Base))
        item_ = self.chart.getPlotItem()
        item_.setLabel("left", "DTCs seen before a flash (times)")
        item_.getAxis("bottom").setHeight(44)  # two-line ticks: the ECU, then its software
        item_.showGrid(y=True, alpha=0.3)
        item_.setMouseEnabled(x=False, y=False)
        item_.hideButtons()
        item_.setMenuEnabled(False)
        text = palette.color(QPalette.ColorRole.Text)
        for axis in ("left", "bottom"):
            item_.getAxis(axis).setTextPen(text)
            item_.getAxis(axis).setPen(text)

    def _say(self, text: str, verdict: str | None = None) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(f"color: {VERDICT_COLOURS[verdict]}" if verdict else "")

    def _ask(self, what: str, work: Any, done: Any) -> None:
        self._say(f"Asking the central store for {what}…")
        self.session.run(work, on_done=done,
                         on_failed=lambda msg, hint: self._say(
                             f"{msg}. What to do: {hint}" if hint else msg, "failed"))

    # -- vehicle history --------------------------------------------------------------------

    def show_history(self) -> None:
        vin = self.vin.text().strip().upper()
        if not vin.isalnum() or not 11 <= len(vin) <= 17:
            self._say("Type the vehicle's VIN (11 to 17 letters and digits).", "failed")
            return
        self.vin.setText(vin)

        def work(_e: Any, _c: CancelToken) -> Any:
            from workshop.services.fleet import vin_history

            return vin_history(fleet_dsn(), vin)

        self._ask(f"the history of {vin}", work, lambda entries: self._history(vin, entries))

    def _history_again(self) -> None:
        if self._entries is not None:
            self._history(*self._entries)

    def _history(self, vin: str, entries: list[Any]) -> None:
        self._entries = (vin, entries)
        rows = history_rows(entries, self.every_step.isChecked())
        _fill(self.history, rows, colour_column=4)
        for column, widest in ((5, 360), (7, 240)):  # the whole text in the tooltip
            self.history.setColumnWidth(column, min(self.history.columnWidth(column), widest))
        places = sorted({e.workstation for e in entries})
        if not entries:
            self._say(f"No records about {vin} in the central store.")
        else:
            bad = sum(1 for e in entries if not e.verified)
            shown = (f"{len(entries)} record(s)" if len(rows) == len(entries) else
                     f"{len(rows)} of {len(entries)} record(s) (tick Every step for all)")
            self._say(f"{vin}: {shown} from {len(places)} workstation(s) "
                      f"({', '.join(places)})" + (
                          f"; {bad} from a log that FAILS verification" if bad else
                          "; every log verifies"), "failed" if bad else None)

    # -- deviations -------------------------------------------------------------------------

    def show_deviations(self) -> None:
        def work(_e: Any, _c: CancelToken) -> Any:
            from workshop.services.fleet import deviations
            from workshop.services.trust_policy import trust_store
            from workshop.transport.adapters import AdapterConfig

            return deviations(fleet_dsn(), trust_store(AdapterConfig()))

        self._ask("the vehicles outside their baseline", work, self._deviations)

    def _deviations(self, found: tuple[list[Any], list[str]]) -> None:
        rows, unknown = found
        _fill(self.deviations, [
            [d.vin, d.model, d.ecu, d.version, ", ".join(d.approved) or "no software",
             d.baseline, _when(d.flashed_at), _by(d)] for d in rows])
        text = (f"{len(rows)} ECU(s) run software outside their approved baseline."
                if rows else "Every vehicle's last known software is in its baseline.")
        if unknown:
            text += f" No verified baseline published for: {', '.join(unknown)}."
        self._say(text, "outdated" if rows else None)

    # -- DTC frequency ----------------------------------------------------------------------

    def show_dtcs(self) -> None:
        def work(_e: Any, _c: CancelToken) -> Any:
            from workshop.services.fleet import dtc_frequency

            return dtc_frequency(fleet_dsn())

        self._ask("DTC counts", work, self._dtcs)

    def _dtcs(self, counts: list[Any]) -> None:
        _fill(self.dtcs, [[c.ecu, c.version, c.dtc, str(c.vehicles), str(c.occurrences)]
                          for c in counts])
        totals: dict[tuple[str, str], int] = {}
        for c in counts:
            totals[(c.ecu, c.version)] = totals.get((c.ecu, c.version), 0) + c.occurrences
        keys = sorted(totals)
        self.chart_labels = [f"{ecu} {version}" for ecu, version in keys]
        plot = self.chart.getPlotItem()
        if self.bars is not None:
            plot.removeItem(self.bars)
        self.bars = pg.BarGraphItem(x=list(range(len(keys))), height=[totals[k] for k in keys],
                                    width=0.6, brush=VERDICT_COLOURS["outdated"])
        plot.addItem(self.bars)
        plot.getAxis("bottom").setTicks([list(enumerate(
            f"{ecu}\n{version}" for ecu, version in keys))])
        plot.setXRange(-0.6, max(len(keys), 1) - 0.4)
        top = max(totals.values(), default=1)
        plot.getAxis("left").setTickSpacing(max(1, -(-top // 5)), 1)  # whole counts
        plot.setYRange(0, top * 1.1)
        self._say(f"{sum(c.occurrences for c in counts)} DTC(s) seen by flashes across the "
                  f"group, on {len(keys)} ECU software version(s)." if counts else
                  "No DTCs recorded by flashes in the central store.")


def _by(d: Any) -> str:
    """Who said so, and which record: a lying clock makes its own record the newest, so the
    answer names the record to look up in the VIN's history (and `store verify`)."""
    how = "flash" if d.source == "flash" else "scan"
    return f"{d.workstation} ({how}, record {d.seq} of log {d.log[:8]})" if d.log else \
        d.workstation


def _fill(table: QTableWidget, rows: list[list[str]], colour_column: int | None = None) -> None:
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for n, row in enumerate(rows):
        for column, text in enumerate(row):
            verdict = row[colour_column] if column == colour_column else None
            cell = item(text, verdict)
            cell.setToolTip(text if len(text) > 30 else "")
            table.setItem(n, column, cell)
    table.setSortingEnabled(True)
    table.resizeColumnsToContents()
