"""The session report as PDF (Qt's PDF writer): vehicle, ECUs and versions, DTCs before and
after, updates with their outcomes, technician, workstation, time."""

from __future__ import annotations

import datetime as dt
import html
import socket
from pathlib import Path

from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

from ui.session import History
from workshop.services.audit_trail import technician


def report_html(vehicle: str, model: str, history: History) -> str:
    e = html.escape
    scans = history.scans
    first, last = (scans[0], scans[-1]) if scans else (None, None)
    vin = (last.vin if last else None) or "not read"
    out = [f"<h1>Workshop report</h1><p><b>Vehicle:</b> {e(model)} ({e(vehicle)})<br>"
           f"<b>VIN:</b> {e(vin)}<br><b>Technician:</b> {e(technician())}<br>"
           f"<b>Workstation:</b> {e(socket.gethostname())}<br>"
           f"<b>Session:</b> {history.started:%Y-%m-%d %H:%M} UTC, report "
           f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC</p>"]
    if last is not None:
        out.append("<h2>ECUs</h2><table border='1' cellspacing='0' cellpadding='3'>"
                   "<tr><th>ECU</th><th>Part number</th><th>Software</th><th>State</th></tr>")
        for ecu in last.ecus:
            state = "answered" if ecu.responded and not ecu.error else (ecu.error or "no answer")
            out.append(f"<tr><td>{e(ecu.name)}</td><td>{e(ecu.identity.part_number or '')}</td>"
                       f"<td>{e(ecu.identity.software_version or '')}</td><td>{e(state)}</td></tr>")
        out.append("</table>")
    for title, scan in (("DTCs at the start", first), ("DTCs at the end", last)):
        if scan is None:
            continue
        rows = [f"<tr><td>{e(x.name)}</td><td>{e(d.code)}</td><td>{e(d.text)}</td>"
                f"<td>0x{d.status:02X}</td></tr>" for x in scan.ecus for d in x.dtcs]
        out.append(f"<h2>{title}</h2>" + ("<table border='1' cellspacing='0' cellpadding='3'>"
                   "<tr><th>ECU</th><th>DTC</th><th>Text</th><th>Status</th></tr>"
                   + "".join(rows) + "</table>" if rows else "<p>none stored</p>"))
    if history.clears:
        out.append("<h2>DTCs cleared</h2><ul>" + "".join(
            f"<li>{e(c.ecu)}: {'cleared' if c.ok else 'not cleared: ' + e(c.detail)}</li>"
            for c in history.clears) + "</ul>")
    if history.flashes:
        out.append("<h2>Software updates</h2><ul>")
        for f in history.flashes:
            for o in f.ecus:
                out.append(f"<li>{e(o.ecu)}: <b>{e(o.outcome)}</b>, "
                           f"{e(o.version_before or '?')} → {e(o.version_after or '?')} "
                           f"({e(f.package)}); {e(o.detail)}</li>")
        out.append("</ul>")
    return "".join(out)


def write_pdf(path: Path, vehicle: str, model: str, history: History) -> None:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setTitle(f"Workshop report {vehicle}")
    doc = QTextDocument()
    doc.setHtml(report_html(vehicle, model, history))
    doc.print_(writer)
