"""Why an ECU refused security access, in words a technician can act on."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError
from workshop.uds.errors import NegativeResponseError, SecurityAccessError


def security_refusal(name: str, exc: NegativeResponseError, level: int, delay_ms: int
                     ) -> WorkshopError | None:
    """Security access refusals in words, with what to do; None: no special words."""
    if exc.nrc == 0x36:
        return SecurityAccessError(
            f"{name} refused security access level 0x{level:02X}: too many invalid keys "
            "(NRC 0x36 exceededNumberOfAttempts); it now locks access for a while",
            hint="check that the profile's seed_key names this ECU's algorithm; leave "
                 "the ignition on for the ECU's delay (often 10 minutes), then try again")
    if exc.nrc == 0x37:
        return SecurityAccessError(
            f"{name} still refused security access level 0x{level:02X} after "
            f"{delay_ms / 1000:g} s (NRC 0x37 "
            "requiredTimeDelayNotExpired)",
            hint="raise security_delay_ms in the ECU's flash profile if its delay is "
                 "longer, or wait and try again")
    if exc.nrc == 0x35:
        return SecurityAccessError(
            f"{name} rejected the key for level 0x{level:02X} (NRC 0x35 invalidKey)",
            hint="the seed/key algorithm in the profile does not match this ECU")
    return None
