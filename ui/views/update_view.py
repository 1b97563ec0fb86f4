"""Update: pick a package, see its verification and the plan check by check, then flash with
a progress bar per ECU and overall, rate against the bus limit and ETA; cancel only where it
is safe, and the result per ECU in words."""

from __future__ import annotations

import textwrap
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import VERDICT_COLOURS
from ui.views.preconditions import PreconditionsPanel
from workshop.flash.events import FlashOverall, FlashProgress
from workshop.flash.result import FlashResult
from workshop.foundation.events import CancelToken, EcuFinished, EcuStep, Event
from workshop.services.baseline_check import PACKAGE_SUFFIX, ensure_demo_material, package_store
from workshop.services.flash import (
    FlashPreparation,
    find_package,
    prepare_flash,
    prepare_resume,
    run_flash,
)
from workshop.services.keep_awake import SleepInhibit

OUTCOME_WORDS = {
    "success": "updated and confirmed after its reset",
    "rolled_back": "the new software did not confirm; the previous software runs again",
    "failed": "not updated; the ECU still runs its previous software",
    "refused": "not touched",
    "resumable": "interrupted: the ECU waits for the update to be finished (Resume)",
}


class UpdateView(QWidget):
    title = "Update"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.package = QComboBox()
        self.package.setEditable(True)
        self.package.setMinimumWidth(280)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.plan_button = QPushButton("Verify and plan")
        self.plan_button.clicked.connect(self.plan)
        self.flash_button = QPushButton("Flash")
        self.flash_button.setEnabled(False)
        self.flash_button.clicked.connect(self.flash)
        self.override_button = QPushButton("Override…")
        self.override_button.setToolTip("Override an overridable check, with a reason that "
                                        "goes into the audit log")
        self.override_button.clicked.connect(self._ask_override)
        self.overrides: dict[str, str] = {}
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Check / ECU", "Verdict", "Detail"])
        self.tree.setColumnWidth(0, 220)
        self.tree.setColumnWidth(1, 110)
        # long details (the step list, a refusal's reason) wrap instead of ending in "…"
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.header().setStretchLastSection(True)
        self.bars = QGridLayout()
        self.overall = QProgressBar()
        self.overall.setFormat("overall %v/%m ECUs")
        self.overall.hide()
        self.cancel_note = QLabel("")
        self.awake = QLabel("")
        self.awake.setWordWrap(True)
        self.preconditions = PreconditionsPanel(session)
        self.preconditions.changed.connect(self._preconditions_changed)
        self.result = QPlainTextEdit()
        self.result.setReadOnly(True)
        self.result.setMaximumHeight(140)
        top = QHBoxLayout()
        top.addWidget(QLabel("Package:"))
        for w in (self.package, browse, self.plan_button, self.override_button,
                  self.flash_button, self.cancel_button):
            top.addWidget(w)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 2)
        layout.addWidget(self.preconditions)
        layout.addLayout(self.bars)
        layout.addWidget(self.overall)
        layout.addWidget(self.cancel_note)
        layout.addWidget(self.awake)
        layout.addWidget(self.result, 1)
        self.prep: FlashPreparation | None = None
        self.job: Any = None
        self._rows: dict[str, tuple[QLabel, QProgressBar]] = {}
        session.connected.connect(lambda _c: self.refresh_packages())
        session.resume_requested.connect(self.resume)

    def refresh_packages(self) -> None:
        conn = self.session.conn
        if conn is not None and conn.adapter.is_simulated:
            ensure_demo_material(conn.vehicle.name)
        current = self.package.currentText()
        self.package.clear()
        self.package.addItems(sorted(p.stem for p in package_store().glob(f"*{PACKAGE_SUFFIX}")))
        if current:
            self.package.setCurrentText(current)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Update package", "",
                                              f"Packages (*{PACKAGE_SUFFIX})")
        if path:
            self.package.setCurrentText(path)

    def confirm(self, text: str) -> bool:
        return QMessageBox.question(self, "Flash", text) == QMessageBox.StandardButton.Yes

    def _ask_override(self) -> None:
        text, ok = QInputDialog.getText(
            self, "Override a check", "CHECK=REASON (e.g. baseline=campaign 24-031, released "
            "by the importer); only overridable checks can be overridden:")
        check, sep, reason = text.partition("=")
        if ok and sep and check.strip() and reason.strip():
            self.overrides[check.strip()] = reason.strip()
            self.plan()

    # -- verify and plan ---------------------------------------------------------------------

    def plan(self) -> None:
        conn, name = self.session.conn, self.package.currentText().strip()
        if conn is None or not name:
            self.result.setPlainText("Connect and choose a package first.")
            return
        self.flash_button.setEnabled(False)

        def work(_events: Any, _cancel: CancelToken) -> FlashPreparation:
            path = find_package(name, simulated=conn.adapter.is_simulated,
                                vehicle=conn.vehicle.name)
            return prepare_flash(conn, path, overrides=dict(self.overrides))

        self.session.run(work, on_done=self.show_plan)

    def resume(self) -> None:
        """The interrupted flashes of this vehicle, planned again from where each stopped
        (the journal and the ECUs say where); shown as any plan, flashed with Flash."""
        conn = self.session.conn
        if conn is None or self.job is not None:
            return
        self.flash_button.setEnabled(False)
        self.result.setPlainText("Looking for interrupted flashes…")

        def work(_events: Any, _cancel: CancelToken) -> list[FlashPreparation]:
            return prepare_resume(conn)

        def failed(what: str, hint: str) -> None:
            self.result.setPlainText(f"Nothing resumed: {what}." + (
                f"\nWhat to do: {hint}." if hint else ""))

        self.session.run(work, on_done=self._show_resume, on_failed=failed)

    def _show_resume(self, preps: list[FlashPreparation]) -> None:
        self.package.setCurrentText(str(preps[0].report.path))
        self.show_plan(preps[0])
        if len(preps) > 1:  # planned again after this one, on the ECUs as they are then
            self.result.appendPlainText(f"{len(preps) - 1} more interrupted package(s): press "
                                        "Resume in the Vehicle view again after this one.")

    def show_plan(self, prep: FlashPreparation) -> None:
        self.prep = prep
        self.tree.clear()
        self._clear_bars()
        pkg = QTreeWidgetItem(["Package verification",
                               "passed" if prep.report.ok else "FAILED", str(prep.report.path)])
        for vc in prep.report.checks:
            QTreeWidgetItem(pkg, [vc.name, {True: "passed", False: "FAILED", None: "not run"}[
                vc.passed], vc.detail])
        self.tree.addTopLevelItem(pkg)
        pkg.setExpanded(not prep.report.ok)
        if prep.plan is not None:
            for reason in prep.plan.problems:
                self.tree.addTopLevelItem(QTreeWidgetItem(["Plan", "BLOCKED", reason]))
            for e in prep.plan.ecus:
                top = QTreeWidgetItem([
                    e.ecu, "blocked" if e.blocked else "ready",
                    f"{e.version_before or '?'} → {e.update.new_version}, {e.mode}, "
                    f"{e.wire_bytes} bytes on the bus, about {e.estimate_s:.0f} s, rollback: "
                    f"{e.rollback or 'none'}"])
                for c in e.checks:
                    verdict = ("overridden" if c.overridden else "passed" if c.passed
                               else "FAILED")
                    QTreeWidgetItem(top, [c.name, verdict, c.detail])
                # the whole step list, over several lines rather than cut off with "…"
                steps = textwrap.fill(" → ".join(e.steps), 100, break_long_words=False)
                QTreeWidgetItem(top, ["steps", "", steps]).setToolTip(2, " → ".join(e.steps))
                self.tree.addTopLevelItem(top)
                top.setExpanded(True)
        _colour(self.tree)
        ready = prep.ready
        self.flash_button.setEnabled(False)  # once the live preconditions say met
        self.preconditions.watch(prep.plan if ready else None)
        self.result.setPlainText("Plan ready: press Flash once the preconditions are met."
                                 if ready else
                                 "Plan blocked; nothing will be written:\n" + "\n".join(
                                     prep.plan.blocking_reasons() if prep.plan else
                                     [prep.report.error.message if prep.report.error else
                                      "verification failed"]))

    def _preconditions_changed(self, met: bool) -> None:
        self.flash_button.setEnabled(met and self.prep is not None and self.prep.ready
                                     and self.job is None)

    # -- flash -----------------------------------------------------------------------------------

    def flash(self) -> None:
        conn, prep = self.session.conn, self.prep
        if conn is None or prep is None or not prep.ready or prep.plan is None:
            return
        names = [e.ecu for e in prep.plan.ecus]
        if not self.confirm(f"Flash {', '.join(names)}? Keep the ignition on and the battery "
                            "charged until it is done."):
            return
        self.preconditions.stop("the flash checks them itself, as its first step (live "
                                "reading paused)")
        self._bars(names)
        self.flash_button.setEnabled(False)
        self.plan_button.setEnabled(False)
        self.window().setProperty("flashing", True)

        self.session.before_audited_work()

        def work(events: Any, cancel: CancelToken) -> FlashResult:
            return run_flash(conn, prep, events=events, cancel=cancel,
                             ask=self.session.audit_ask)

        self.job = self.session.run(work, on_done=self.show_result, on_event=self._event,
                                    on_failed=self._flash_failed)
        self.cancel_button.setEnabled(True)

    def _clear_bars(self) -> None:
        """No progress of a finished flash stays on screen under a new plan."""
        while self.bars.count():
            taken = self.bars.takeAt(0)
            w = taken.widget() if taken is not None else None
            if w is not None:
                w.deleteLater()
        self._rows = {}
        self.overall.hide()
        self.awake.setText("")

    def _bars(self, names: list[str]) -> None:
        self._clear_bars()
        for i, name in enumerate(names):
            label, bar = QLabel(f"{name}: waiting"), QProgressBar()
            self.bars.addWidget(label, i, 0)
            self.bars.addWidget(bar, i, 1)
            self._rows[name] = (label, bar)
        self.overall.setRange(0, len(names))
        self.overall.setValue(0)
        self.overall.show()

    def _event(self, event: Event) -> None:
        if isinstance(event, SleepInhibit):
            if self.session.simulated and not event.held:
                # nothing on a desk can be bricked by the laptop sleeping: a note, not a
                # warning; it goes with this flash's progress
                self.awake.setText("Keep-awake is not available here; the simulated vehicle "
                                   "does not need it.")
                self.awake.setStyleSheet("")
                return
            self.awake.setText(event.describe()[0].upper() + event.describe()[1:] + ".")
            self.awake.setStyleSheet("" if event.held else
                                     f"color: {VERDICT_COLOURS['failed']}")
        elif isinstance(event, FlashProgress) and event.ecu in self._rows:
            label, bar = self._rows[event.ecu]
            bar.setRange(0, max(event.total, 1))
            bar.setValue(event.done)
            eta = f", ETA {event.eta_s:.0f} s" if event.eta_s is not None else ""
            label.setText(f"{event.ecu}: {event.step} — {event.rate_bps / 1000:.1f} of "
                          f"{event.bus_limit_bps / 1000:.1f} kB/s{eta}")
        elif isinstance(event, EcuStep) and event.ecu in self._rows:
            self._rows[event.ecu][0].setText(f"{event.ecu}: {event.index}/{event.total} "
                                             f"{event.step}")
        elif isinstance(event, EcuFinished) and event.ecu in self._rows:
            outcome = getattr(event.result, "outcome", "done")
            self._rows[event.ecu][0].setText(f"{event.ecu}: {outcome}")
        elif isinstance(event, FlashOverall):
            self.overall.setValue(event.finished)
            self.cancel_button.setEnabled(event.safe_to_cancel)
            self.cancel_note.setText(
                "Cancel is safe now (no ECU is being programmed)." if event.safe_to_cancel else
                "Cancel waits: an ECU is being programmed and must reach a safe state first.")

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel.cancel()
            self.cancel_note.setText("Cancelling at the next safe point…")

    def _flash_failed(self, what: str, hint: str) -> None:
        self._idle()
        self.result.setPlainText(f"The flash did not run to its end: {what}\n"
                                 f"What to do: {hint}\nThe audit log and 'flash resume' "
                                 "say what each ECU was left with.")

    def _idle(self) -> None:
        self.job = None
        self.prep = None  # a new flash starts from a new plan, on the ECUs as they are now
        self.window().setProperty("flashing", False)
        self.cancel_button.setEnabled(False)
        self.cancel_note.setText("")
        self.plan_button.setEnabled(True)

    def show_result(self, result: FlashResult) -> None:
        self._idle()
        self.session.history.flashes.append(result)
        lines = []
        for o in result.ecus:
            lines.append(f"{o.ecu}: {o.outcome.upper()} — {OUTCOME_WORDS[o.outcome]}. "
                         f"{o.version_before or '?'} → {o.version_after or '?'}; {o.detail}")
            label = self._rows[o.ecu][0] if o.ecu in self._rows else None
            if label is not None:
                label.setText(f"{o.ecu}: {o.outcome}")
                label.setStyleSheet(f"color: {VERDICT_COLOURS.get(o.outcome, '')}")
        self.result.setPlainText("\n".join(lines))
        # what the flash changed (versions, an ECU back out of its bootloader) is read again
        self.session.start_scan()


VERDICT_WORDS = {"passed": "success", "ready": "success", "FAILED": "failed",
                 "blocked": "failed", "BLOCKED": "failed", "overridden": "outdated",
                 "not run": "unknown"}


def _colour(tree: QTreeWidget) -> None:
    """Verdicts in colour as well as in words."""
    stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        colour = VERDICT_COLOURS.get(VERDICT_WORDS.get(node.text(1), ""))
        if colour:
            node.setForeground(1, QColor(colour))
        stack.extend(node.child(i) for i in range(node.childCount()))
