"""Whether an ECU sits in its bootloader: an interrupted flash leaves a single-bank ECU there,
without an application, until `workshop flash resume` (or the app's Resume) finishes it.

The rule is in `in_bootloader` alone, so that the vehicle definition's flash profile (which is
to name the version DID and the boot detection per ECU) changes this one function.
"""

from __future__ import annotations

from workshop.uds.client import EcuClient
from workshop.uds.errors import NegativeResponseError
from workshop.vehicles import EcuDefinition

# ISO 14229-1 applicationSoftwareIdentification's usual home: the application's version
VERSION_DID = 0xF189
# requestOutOfRange: a bootloader has no application to describe
BOOT_NRC = 0x31

IN_BOOTLOADER = "sits in its bootloader with no application running (an interrupted flash)"
RESUME_COMMAND = "workshop flash resume"


def in_bootloader(ecu: EcuClient, definition: EcuDefinition | None) -> bool:
    """True when `ecu` answers from its bootloader. `definition` is the ECU's entry in the
    vehicle definition (None for an ECU found only by discovery: the default rule applies).

    Today's rule, the one the flash's preflight uses: the version DID is answered with NRC
    0x31 requestOutOfRange. Any other answer, refusal or silence is not "in its bootloader"
    (errors other than a negative response propagate, as for any request)."""
    del definition  # every ECU follows the default rule until its profile names its own
    try:
        ecu.read_did(VERSION_DID)
    except NegativeResponseError as exc:
        return exc.nrc == BOOT_NRC
    return False
