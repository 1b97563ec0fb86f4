"""Read what the plan needs from each ECU: versions, hardware, anti-rollback counter,
fingerprint, whether it sits in its bootloader, and its DTCs before programming."""

from __future__ import annotations

from workshop.flash import codec
from workshop.flash.bus import FlashBus
from workshop.flash.plan import EcuState
from workshop.foundation.errors import WorkshopError
from workshop.uds.application import read_application_version
from workshop.uds.client import DEFAULT_SESSION, EcuClient
from workshop.uds.errors import NegativeResponseError
from workshop.uds.identity import decode_did_value
from workshop.vehicles import EcuDefinition


def _did(ecu: EcuClient, did: int) -> bytes | None:
    try:
        return ecu.read_did(did)
    except NegativeResponseError:
        return None


def read_state(bus: FlashBus, definition: EcuDefinition) -> tuple[EcuState, list[str] | None]:
    """The ECU's state, and the DTC codes it has stored (None when it cannot say)."""
    profile = definition.flash
    try:
        with bus.client(definition.name) as ecu:
            hardware = _did(ecu, profile.hardware_did)
            # How a bootloader shows itself is the profile's `boot_detect` (by default: the
            # application version DID is "out of range" there, NRC 0x31).
            version = read_application_version(ecu, profile)
            in_boot = version is None
            boot = (_did(ecu, profile.boot_version_did)
                    if profile.boot_version_did is not None else None)
            counter = None
            if profile.anti_rollback_did is not None:
                raw = _did(ecu, profile.anti_rollback_did)
                counter = int.from_bytes(raw, "big") if raw else None
            fingerprint = _did(ecu, profile.fingerprint_did)
            dtcs = None
            if not in_boot:
                try:
                    dtcs = [d.code for d in ecu.read_dtcs(details=False)]
                except WorkshopError:
                    dtcs = None
    except WorkshopError as exc:
        return EcuState(definition.name, False, error=exc.message), None
    return EcuState(definition.name, True, version,
                    decode_did_value(hardware) if hardware is not None else None,
                    counter, in_boot, fingerprint,
                    boot_version=decode_did_value(boot) if boot is not None else None), dtcs


def read_preconditions(bus: FlashBus, definition: EcuDefinition) -> codec.Preconditions | None:
    """The ECU's own programming preconditions with their live readings (battery, speed,
    ignition), as the flash will check them; None when its profile has no such routine.
    The ECU is left in its default session: nothing is changed."""
    spec = definition.flash.preconditions
    if spec is None:
        return None
    with bus.client(definition.name) as ecu:
        ecu.change_session(definition.flash.extended_session)
        try:
            answer = ecu.routine(spec.id, 1, codec.routine_args(
                spec.layout, codec.ArgValues(definition.flash.address_and_length_format,
                                             0, 0, 0, 0)))
        finally:
            ecu.change_session(DEFAULT_SESSION)
    return codec.parse_preconditions(answer, definition.flash.precondition_answer)
