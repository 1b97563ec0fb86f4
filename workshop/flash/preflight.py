"""Read what the plan needs from each ECU: versions, hardware, anti-rollback counter,
fingerprint, whether it sits in its bootloader, and its DTCs before programming."""

from __future__ import annotations

from workshop.flash import codec
from workshop.flash.bus import FlashBus
from workshop.flash.plan import EcuState
from workshop.foundation.errors import WorkshopError
from workshop.uds.client import DEFAULT_SESSION, EXTENDED_SESSION, EcuClient
from workshop.uds.errors import NegativeResponseError
from workshop.uds.identity import decode_did_value
from workshop.vehicles import EcuDefinition

SOFTWARE_VERSION_DID, HARDWARE_DID = 0xF189, 0xF191


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
            hardware = _did(ecu, HARDWARE_DID)
            try:
                version: bytes | None = ecu.read_did(SOFTWARE_VERSION_DID)
                in_boot = False
            except NegativeResponseError as exc:
                # A bootloader has no application to describe: the application DIDs are
                # "out of range" there (requestOutOfRange), which is how we recognise it.
                version, in_boot = None, exc.nrc == 0x31
                if not in_boot:
                    raise
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
    return EcuState(definition.name, True,
                    decode_did_value(version) if version is not None else None,
                    decode_did_value(hardware) if hardware is not None else None,
                    counter, in_boot, fingerprint), dtcs


def read_preconditions(bus: FlashBus, definition: EcuDefinition) -> codec.Preconditions | None:
    """The ECU's own programming preconditions with their live readings (battery, speed,
    ignition), as the flash will check them; None when its profile has no such routine.
    The ECU is left in its default session: nothing is changed."""
    spec = definition.flash.preconditions
    if spec is None:
        return None
    with bus.client(definition.name) as ecu:
        ecu.change_session(EXTENDED_SESSION)
        try:
            answer = ecu.routine(spec.id, 1)
        finally:
            ecu.change_session(DEFAULT_SESSION)
    return codec.parse_preconditions(answer, definition.flash.precondition_answer)
