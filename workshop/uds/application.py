"""The application's version as an ECU's flash profile says to read it, and whether the ECU
sits in its bootloader instead: one rule for the flash, the scan and the resume."""

from __future__ import annotations

from workshop.uds.client import EcuClient
from workshop.uds.errors import NegativeResponseError
from workshop.uds.identity import decode_did_value
from workshop.vehicles.flash_profile import FlashProfile


def read_application_version(ecu: EcuClient, profile: FlashProfile) -> str | None:
    """The application version, None when the profile's test says the ECU sits in its
    bootloader; other refusals raise."""
    detect = profile.boot_detect
    if detect.equals is not None:
        if ecu.read_did(detect.did) == detect.equals:
            return None
    elif detect.did != profile.version_did:
        try:
            ecu.read_did(detect.did)
        except NegativeResponseError as exc:
            if exc.nrc == detect.nrc:
                return None
            raise
    try:
        return decode_did_value(ecu.read_did(profile.version_did))
    except NegativeResponseError as exc:
        if detect.equals is None and detect.did == profile.version_did and exc.nrc == detect.nrc:
            return None
        raise
