"""DTC encoding: SAE J2012 text form and ISO 14229 status bits."""

from __future__ import annotations

import re

LETTERS = "PCBU"
STATUS_BITS = (
    "testFailed",
    "testFailedThisOperationCycle",
    "pendingDTC",
    "confirmedDTC",
    "testNotCompletedSinceLastClear",
    "testFailedSinceLastClear",
    "testNotCompletedThisOperationCycle",
    "warningIndicatorRequested",
)
# Any DTC that has failed at some point since the last clear; excludes "not completed" bits,
# which an ECU legitimately sets on every supported DTC after a clear.
DEFAULT_STATUS_MASK = 0x2F

_CODE = re.compile(r"^([PCBU])([0-3])([0-9A-F]{3})-?([0-9A-F]{2})?$")


def dtc_to_text(dtc: int) -> str:
    """3-byte DTC (2 bytes J2012 code + failure type byte) -> 'P030100'."""
    if not 0 <= dtc <= 0xFFFFFF:
        raise ValueError(f"DTC 0x{dtc:X} does not fit in 3 bytes")
    high = dtc >> 8
    letter = LETTERS[high >> 14]
    return f"{letter}{(high >> 12) & 0x3}{high & 0xFFF:03X}{dtc & 0xFF:02X}"


def text_to_dtc(text: str) -> int:
    """'P030100', 'P0301-00' or 'P0301' (failure type 00) -> 3-byte DTC."""
    m = _CODE.match(text.strip().upper())
    if not m:
        raise ValueError(f"{text!r} is not an SAE J2012 DTC (e.g. P030100 or P0301-00)")
    letter, first, rest, ftb = m.groups()
    high = LETTERS.index(letter) << 14 | int(first) << 12 | int(rest, 16)
    return high << 8 | int(ftb or "00", 16)


def status_names(status: int) -> list[str]:
    return [name for bit, name in enumerate(STATUS_BITS) if status >> bit & 1]
