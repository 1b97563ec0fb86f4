"""B10: printable() shows control and bidi characters as escapes."""

from __future__ import annotations

import pytest

from workshop.foundation.text import printable


@pytest.mark.parametrize("raw,shown", [
    ("\x1b[2J", "\\x1b[2J"),
    ("a\x00b\x07c\x7f", "a\\x00b\\x07c\\x7f"),
    ("\x9b31m", "\\x9b31m"),  # C1 CSI
    ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
    ("\u2066x\u2069", "\\u2066x\\u2069"),
    ("line\nbreak\ttab\r", "line\\x0abreak\\x09tab\\x0d"),
    ("Müller ÄÖÜ \u2013 東京", "Müller ÄÖÜ \u2013 東京"),
])
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_layout_keeps_newline_and_tab_only() -> None:
    assert printable("a\nb\tc\rd\x1b", layout=True) == "a\nb\tc\\x0dd\\x1b"


def test_every_control_and_bidi_character_is_escaped() -> None:
    unsafe = [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    out = printable("".join(map(chr, unsafe)))
    assert out.isprintable() and out.isascii()
