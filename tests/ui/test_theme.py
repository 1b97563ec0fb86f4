"""Verdict colours stay readable: WCAG contrast of at least 4.5:1 against the background of
the theme they are used in (colour is never the only channel, but it must not be a hard one)."""

from __future__ import annotations

import pytest

from ui.theme import _DARK, DARK_VERDICTS, LIGHT_VERDICTS


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("verdicts", "backgrounds"), [
    (LIGHT_VERDICTS, ["#ffffff", "#efefef"]),
    (DARK_VERDICTS, sorted({_DARK[role] for role in _DARK if role.name in ("Window", "Base")})),
])
def test_every_verdict_colour_reads_on_its_background(verdicts: dict[str, str],
                                                      backgrounds: list[str]) -> None:
    poor = {(name, bg): round(contrast(colour, bg), 2) for name, colour in verdicts.items()
            for bg in backgrounds if contrast(colour, bg) < 4.5}
    assert not poor
