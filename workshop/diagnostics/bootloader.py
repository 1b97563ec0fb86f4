"""Whether an ECU sits in its bootloader: an interrupted flash leaves a single-bank ECU there,
without an application, until `workshop flash resume` (or the app's Resume) finishes it.

The rule is in `in_bootloader` alone, so that the vehicle definition's flash profile (which is
to name the version DID and the boot detection per ECU) changes this one function.
"""

from __future__ import annotations

from workshop.uds.application import read_application_version
from workshop.uds.client import EcuClient
from workshop.uds.errors import NegativeResponseError
from workshop.vehicles import EcuDefinition
from workshop.vehicles.flash_profile import FlashProfile

IN_BOOTLOADER = "sits in its bootloader with no application running (an interrupted flash)"
RESUME_COMMAND = "workshop flash resume"


def in_bootloader(ecu: EcuClient, definition: EcuDefinition | None) -> bool:
    """True when `ecu` answers from its bootloader, by its flash profile's `boot_detect`
    (the default profile's rule for an ECU found only by discovery: version DID F189
    answered with NRC 0x31 requestOutOfRange). Any other refusal or silence is not "in its
    bootloader" (errors other than a negative response propagate, as for any request)."""
    profile = definition.flash if definition is not None else FlashProfile()
    try:
        return read_application_version(ecu, profile) is None
    except NegativeResponseError:
        return False
