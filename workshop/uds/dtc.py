"""DTC encoding: SAE J2012 and SAE J1939 text forms, DTC formats and ISO 14229 status bits.

The three DTC bytes mean different things per DTCFormatIdentifier (ISO 14229-1, sent in
0x19 01 answers): SAE J2012 / ISO 15031-6 codes (P0301 plus a failure-type byte) for the
ISO 15031-6, ISO 14229-1 and J2012-DA formats, and SPN plus FMI for SAE J1939-73.
"""

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

# ISO 14229-1 DTCFormatIdentifier values.
DTC_FORMAT_ISO15031_6 = 0x00
DTC_FORMAT_ISO14229_1 = 0x01
DTC_FORMAT_SAE_J1939_73 = 0x02
DTC_FORMAT_ISO11992_4 = 0x03
DTC_FORMAT_SAE_J2012_DA_04 = 0x04
DTC_FORMAT_NAMES = {
    DTC_FORMAT_ISO15031_6: "ISO 15031-6",
    DTC_FORMAT_ISO14229_1: "ISO 14229-1",
    DTC_FORMAT_SAE_J1939_73: "SAE J1939-73",
    DTC_FORMAT_ISO11992_4: "ISO 11992-4",
    DTC_FORMAT_SAE_J2012_DA_04: "SAE J2012-DA format 04",
}
J2012_FORMATS = frozenset({DTC_FORMAT_ISO15031_6, DTC_FORMAT_ISO14229_1,
                           DTC_FORMAT_SAE_J2012_DA_04})
MAX_SPN, MAX_FMI = (1 << 19) - 1, 31

_J1939 = re.compile(r"^SPN\s*(\d+)\s*[-/ ]?\s*FMI\s*(\d+)$")
_HEX = re.compile(r"^(?:0X)?([0-9A-F]{6})$")
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


def j1939_to_text(dtc: int) -> str:
    """SAE J1939-73 DTC bytes (SPN bits 7-0, SPN bits 15-8, SPN bits 18-16 | FMI)
    -> 'SPN 110 FMI 0'."""
    if not 0 <= dtc <= 0xFFFFFF:
        raise ValueError(f"DTC 0x{dtc:X} does not fit in 3 bytes")
    b0, b1, b2 = dtc.to_bytes(3, "big")
    return f"SPN {b0 | b1 << 8 | (b2 >> 5) << 16} FMI {b2 & 0x1F}"


def text_to_j1939(text: str) -> int:
    """'SPN 110 FMI 0' (also 'SPN110-FMI0') -> the 3 DTC bytes of SAE J1939-73."""
    m = _J1939.match(text.strip().upper())
    if not m:
        raise ValueError(f"{text!r} is not an SAE J1939 DTC (e.g. SPN 110 FMI 0)")
    spn, fmi = int(m.group(1)), int(m.group(2))
    if spn > MAX_SPN or fmi > MAX_FMI:
        raise ValueError(f"{text!r}: SPN must be 0..{MAX_SPN} and FMI 0..{MAX_FMI}")
    return (spn & 0xFF) << 16 | (spn >> 8 & 0xFF) << 8 | (spn >> 16) << 5 | fmi


def dtc_code(dtc: int, dtc_format: int = DTC_FORMAT_ISO14229_1) -> str:
    """Text form of a DTC in its format; formats without a text form give '0x123456'."""
    if dtc_format in J2012_FORMATS:
        return dtc_to_text(dtc)
    if dtc_format == DTC_FORMAT_SAE_J1939_73:
        return j1939_to_text(dtc)
    return f"0x{dtc:06X}"


def parse_dtc_code(text: str, dtc_format: int = DTC_FORMAT_ISO14229_1) -> int:
    """Inverse of `dtc_code`."""
    if dtc_format in J2012_FORMATS:
        return text_to_dtc(text)
    if dtc_format == DTC_FORMAT_SAE_J1939_73:
        return text_to_j1939(text)
    m = _HEX.match(text.strip().upper())
    if not m:
        raise ValueError(f"{text!r}: DTCs in format 0x{dtc_format:02X} are written as six "
                         "hex digits, e.g. 0x123456")
    return int(m.group(1), 16)
