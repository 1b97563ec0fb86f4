"""Light, dark, or whatever the OS uses: Qt's Fusion style with a palette of our own for dark
(the platform styles differ in how far they follow the OS), and verdict colours that stay
readable on either background."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from ui.views.common import VERDICT_COLOURS

LIGHT_VERDICTS = dict(VERDICT_COLOURS)
# the same hues, lighter, for a dark background (contrast ≥ 4.5:1 on #262626)
DARK_VERDICTS = {**LIGHT_VERDICTS, "approved": "#81c784", "success": "#81c784",
                 "outdated": "#ffb74d", "rolled_back": "#ffb74d", "incomplete": "#ffb74d",
                 "unapproved": "#ef9a9a", "failed": "#ef9a9a", "refused": "#ef9a9a",
                 "missing": "#ef9a9a", "no answer": "#ef9a9a", "unknown": "#bdbdbd",
                 "resumable": "#f48fb1"}
_DARK = {QPalette.ColorRole.Window: "#262626", QPalette.ColorRole.WindowText: "#e6e6e6",
         QPalette.ColorRole.Base: "#1c1c1c", QPalette.ColorRole.AlternateBase: "#2c2c2c",
         QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#363636",
         QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.ToolTipBase: "#363636",
         QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d7fd6",
         QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#8ab4f8",
         QPalette.ColorRole.PlaceholderText: "#9e9e9e", QPalette.ColorRole.BrightText: "#ff8a80"}
_DISABLED = {QPalette.ColorRole.WindowText: "#7a7a7a", QPalette.ColorRole.Text: "#7a7a7a",
             QPalette.ColorRole.ButtonText: "#7a7a7a"}


def os_prefers_dark(app: QApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str) -> bool:
    """Apply "system", "light" or "dark"; returns whether the result is dark."""
    dark = theme == "dark" or (theme == "system" and os_prefers_dark(app))
    app.setStyle("Fusion")
    if dark:
        palette = QPalette()
        for role, colour in _DARK.items():
            palette.setColor(role, QColor(colour))
        for role, colour in _DISABLED.items():
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    else:
        palette = app.style().standardPalette()
    app.setPalette(palette)
    VERDICT_COLOURS.clear()  # shared by every view: later cells and labels use the new hues
    VERDICT_COLOURS.update(DARK_VERDICTS if dark else LIGHT_VERDICTS)
    return dark


def follow_os(app: QApplication, current: Callable[[], str]) -> None:
    """Re-apply when the OS switches between light and dark and the setting says follow."""
    app.styleHints().colorSchemeChanged.connect(
        lambda _scheme: current() == "system" and apply_theme(app, "system"))
