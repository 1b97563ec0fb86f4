"""Vehicle identification numbers: ISO 3779 form and the 49 CFR 565 check digit.

A VIN is 17 characters from 0-9 and A-Z without I, O and Q (too easily read as 1 and 0).
Position 9 is a check digit: each character's transliterated value times its position's
weight, summed, modulo 11 (10 is written X). North America requires it; the built-in
vehicles follow it, so a VIN read from an ECU that fails it is worth a technician's look.
"""

from __future__ import annotations

VIN_LENGTH = 17
FORBIDDEN = "IOQ"
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_LETTER_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                          (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
                          strict=True))
CHECK_POSITION = 9  # 1-based, as the standards count


def _value(char: str) -> int:
    return int(char) if char.isdigit() else _LETTER_VALUES[char]


def check_digit(vin: str) -> str:
    """The check digit (0-9 or X) that `vin` (17 valid characters) must carry at position 9."""
    remainder = sum(_value(c) * w for c, w in zip(vin, WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(vin: str) -> str | None:
    """None for a valid VIN, else what is wrong with it, in words for the technician."""
    if len(vin) != VIN_LENGTH:
        return f"a VIN has 17 characters, this one has {len(vin)}"
    for pos, char in enumerate(vin, start=1):
        if char in FORBIDDEN:
            return f"character {pos} is {char!r}: I, O and Q are not allowed in a VIN"
        if char.isascii() and char.islower():
            return f"character {pos} is {char!r}: a VIN is upper-case"
        if not (char.isascii() and char.isalnum()):
            return f"character {pos} is {char!r}: a VIN has only digits and letters"
    expected = check_digit(vin)
    if vin[CHECK_POSITION - 1] != expected:
        return (f"check digit (character {CHECK_POSITION}) is {vin[CHECK_POSITION - 1]!r}, "
                f"the other characters give {expected!r}")
    return None
