"""Draw the app icon (resources/icons/workshop.png, 256 px): a CAN-bus line with three ECU
nodes on a rounded tile. Run once after changing it: python scripts/make_icon.py"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    assert app is not None
    size = 256
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor("#1f4e79"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(8, 8, size - 16, size - 16), 40, 40)
    pen = QPen(QColor("#ffffff"), 14)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.drawLine(44, 176, 212, 176)
    for x in (72, 128, 184):
        p.setPen(pen)
        p.drawLine(x, 176, x, 120)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#8fd14f" if x == 128 else "#ffffff"))
        p.drawRoundedRect(QRectF(x - 22, 64, 44, 56), 8, 8)
    p.end()
    out = ROOT / "resources" / "icons" / "workshop.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(out))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
