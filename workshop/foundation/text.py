"""Untrusted text (certificate names, manifest fields, ECU answers, definition files) made
safe for a terminal: control and direction-override characters become visible escapes."""

from __future__ import annotations

# C0, DEL and C1 controls drive the terminal (ESC sequences can clear it, retitle it, fake
# output); bidi overrides and isolates reorder what is shown, so "evil.exe" can read
# differently; line/paragraph separators break lines where none appears.
_UNSAFE = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x061C, 0x200E, 0x200F,
           *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]
_ESCAPES = {cp: f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" for cp in _UNSAFE}
_KEEP_LAYOUT = {ord("\n"), ord("\t")}
_ESCAPES_KEEP_LAYOUT = {cp: e for cp, e in _ESCAPES.items() if cp not in _KEEP_LAYOUT}


def printable(text: str, *, layout: bool = False) -> str:
    """`text` with every control, DEL, C1 and bidi control character shown as an escape
    (ESC -> \\x1b, U+202E -> \\u202e). `layout=True` keeps newline and tab (whole
    output rather than one field)."""
    return text.translate(_ESCAPES_KEEP_LAYOUT if layout else _ESCAPES)
