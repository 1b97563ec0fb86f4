"""The customer report as PDF (Qt's PDF writer): workshop and technician, the vehicle, DTCs
before the repair and now side by side (each in words, with when it was read), every ECU
changed (versions, package, signer, audit record), baseline verdicts, the audit records and
the log's signed head, a signature line; Qt numbers the pages.

The facts come from the core (workshop.services.session_report, diagnostics.dtc_details); this
module only lays them out."""

from __future__ import annotations

import datetime as dt
import html
import socket
from pathlib import Path

from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

from ui.session import History
from workshop.diagnostics.described import VehicleDescriptions
from workshop.diagnostics.dtc_details import describe, detail_lines
from workshop.foundation.settings import load_settings
from workshop.services.audit_trail import technician
from workshop.services.session_report import AuditFacts, EcuReading
from workshop.vehicles.data_ids import NO_DESCRIPTIONS, DataDescriptions

TABLE = "<table border='1' cellspacing='0' cellpadding='3' width='100%'>"
e = html.escape


def _at(t: dt.datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M:%S} UTC" if t is not None else "not read"


def _dtc_cell(ecu: str, dtcs: list, source: VehicleDescriptions  # type: ignore[type-arg]
              ) -> str:
    if not dtcs:
        return "none stored"
    parts = []
    for d in dtcs:
        details = describe(ecu, d, source.for_ecu(ecu))
        values = [line.strip() for line in detail_lines(details, meanings=False)[1:]
                  if line.startswith("  ")]
        parts.append(f"<b>{e(d.code)}</b> {e(d.text)}<br><i>{e(details.status_words)}</i>"
                     + (f"<br><small>{e('; '.join(values))}</small>" if values else ""))
    return "<br>".join(parts)


def _dtcs(readings: list[EcuReading], source: VehicleDescriptions) -> str:
    rows = []
    for r in readings:
        before = r.first_dtcs if r.first_dtcs is not None else []
        now_note = f"<br><small>read {e(_at(r.dtcs_at))}</small>"
        if r.problem:
            now_note += f"<br><small>latest attempt: {e(r.problem)}</small>"
        rows.append(f"<tr><td>{e(r.name)}</td>"
                    f"<td>{_dtc_cell(r.name, before, source)}<br><small>read "
                    f"{e(_at(r.first_dtcs_at))}</small></td>"
                    f"<td>{_dtc_cell(r.name, r.dtcs, source)}{now_note}</td></tr>")
    return (f"<h2>Fault codes</h2>{TABLE}<tr><th>ECU</th><th>Before the repair</th>"
            "<th>Now</th></tr>" + "".join(rows) + "</table>")


def _ecus(readings: list[EcuReading]) -> str:
    rows = "".join(f"<tr><td>{e(r.name)}</td><td>{e(r.part_number or '—')}</td>"
                   f"<td>{e(r.software or '—')}</td><td>{e(r.hardware or '—')}</td>"
                   f"<td>{e(_at(r.identity_at))}</td></tr>" for r in readings)
    return (f"<h2>Control units (latest reading)</h2>{TABLE}<tr><th>ECU</th><th>Part number"
            "</th><th>Software</th><th>Hardware</th><th>Read at</th></tr>" + rows + "</table>")


def _changes(facts: AuditFacts) -> str:
    if not facts.changes:
        return "<h2>Software changed</h2><p>No control unit was reprogrammed.</p>"
    rows = "".join(
        f"<tr><td>{e(c.ecu)}</td><td>{e(c.before)} → {e(c.after)}</td><td>{e(c.outcome)}</td>"
        f"<td>{e(c.package)}</td><td>{e(c.signer)}</td><td>#{c.intent}, #{c.record}</td></tr>"
        for c in facts.changes)
    return (f"<h2>Software changed</h2>{TABLE}<tr><th>ECU</th><th>Version</th><th>Result"
            "</th><th>Package</th><th>Signed by</th><th>Audit records</th></tr>" + rows
            + "</table>")


def _verdicts(history: History) -> str:
    if not history.verdicts:
        return "<h2>Approved software (baseline)</h2><p>Not checked in this session.</p>"
    rows = "".join(f"<tr><td>{e(v.ecu)}</td><td>{e(v.verdict)}</td><td>{e(v.detail)}</td></tr>"
                   for v in sorted(history.verdicts, key=lambda v: v.ecu))
    return (f"<h2>Approved software (baseline), checked {e(_at(history.verdicts_at))}</h2>"
            f"{TABLE}<tr><th>ECU</th><th>Verdict</th><th>Detail</th></tr>{rows}</table>")


def _audit(facts: AuditFacts) -> str:
    if facts.problem:
        return f"<h2>Audit trail</h2><p>The audit log could not be read: {e(facts.problem)}</p>"
    rows = "".join(f"<tr><td>#{seq}</td><td>{e(time[:19].replace('T', ' '))}</td>"
                   f"<td>{e(action)}</td><td>{e(text)}</td></tr>"
                   for seq, time, action, text in facts.records)
    head = (f"<p>The audit log ends at record #{facts.head_seq}, hash "
            f"<tt>{e(facts.head_hash[:32])}…</tt>; its signed head covers record "
            f"#{facts.checkpoint_seq}. Verification: "
            f"{'passed' if facts.verified else 'FAILED'}"
            + (f"; signed by {e(', '.join(facts.signers))}" if facts.signers else "") + ".</p>")
    table = (f"{TABLE}<tr><th>Record</th><th>Time (UTC)</th><th>Action</th><th>What</th></tr>"
             f"{rows}</table>" if rows else "<p>No work recorded in this session.</p>")
    return "<h2>Audit trail</h2>" + head + table


def report_html(vehicle: str, model: str, history: History, facts: AuditFacts,
                source: DataDescriptions | VehicleDescriptions = NO_DESCRIPTIONS) -> str:
    """`source`: names and units per ECU (one table for all: the vehicle definition's)."""
    if not isinstance(source, VehicleDescriptions):
        source = VehicleDescriptions(tables=source)
    settings = load_settings()
    readings = history.readings.sorted()
    vin = history.readings.vin or "not read"
    out = [
        "<h1>Vehicle service report</h1>",
        f"<p><b>Workshop:</b> {e(settings.workshop_name or socket.gethostname())}<br>"
        f"<b>Technician:</b> {e(technician() or 'not set')}<br>"
        f"<b>Workstation:</b> {e(socket.gethostname())}<br>"
        f"<b>Session:</b> {history.started:%Y-%m-%d %H:%M} UTC; report "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC</p>",
        f"<h2>Vehicle</h2><p><b>VIN:</b> {e(vin)}<br><b>Model:</b> {e(model)} ({e(vehicle)})"
        f"<br><b>Odometer:</b> not reported by the vehicle</p>",
        _dtcs(readings, source), _changes(facts), _verdicts(history), _ecus(readings),
    ]
    if history.clears:
        out.append("<h2>Fault memory cleared</h2><ul>" + "".join(
            f"<li>{e(c.ecu)}: {'cleared' if c.ok else 'not cleared: ' + e(c.detail)}"
            + (f" (still stored after the clear: {e(', '.join(c.remaining))})"
               if c.remaining else "") + "</li>" for c in history.clears) + "</ul>")
    out.append(_audit(facts))
    out.append("<br><br><table width='100%' cellpadding='6'><tr>"
               "<td>Technician signature:<br><br>______________________________</td>"
               "<td>Customer signature:<br><br>______________________________</td></tr>"
               "</table>")
    return "".join(out)


def write_pdf(path: Path, vehicle: str, model: str, history: History, facts: AuditFacts,
              source: DataDescriptions | VehicleDescriptions = NO_DESCRIPTIONS) -> None:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setTitle(f"Vehicle service report {history.readings.vin or vehicle}")
    doc = QTextDocument()
    doc.setDefaultStyleSheet("body { font-size: 9pt; } h1 { font-size: 16pt; } "
                             "h2 { font-size: 12pt; } th { background: #e0e0e0; }")
    doc.setHtml(report_html(vehicle, model, history, facts, source))
    doc.print_(writer)  # QTextDocument::print numbers the pages at the foot
