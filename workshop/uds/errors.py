"""UDS-layer exceptions, carrying the ECU, the service and the code."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError
from workshop.uds.nrc import nrc_explanation, nrc_name


class UdsError(WorkshopError):
    """An ECU refused or did not answer a UDS request."""


class NegativeResponseError(UdsError):
    def __init__(self, ecu: str, service: str, sid: int, nrc: int) -> None:
        self.ecu, self.service, self.sid, self.nrc = ecu, service, sid, nrc
        super().__init__(
            f"{ecu} refused {service} (0x{sid:02X}): NRC 0x{nrc:02X} {nrc_name(nrc)}",
            hint=nrc_explanation(nrc))


class EcuTimeoutError(UdsError):
    def __init__(self, ecu: str, address: str, service: str) -> None:
        self.ecu, self.address, self.service = ecu, address, service
        super().__init__(
            f"{ecu} ({address}) did not answer {service}",
            hint="check ignition is on, the ECU is powered and on this bus, the adapter's "
                 "bitrate and the ECU's addresses in the vehicle definition")


class InvalidResponseError(UdsError):
    """The ECU answered, but not in the form ISO 14229 prescribes."""


class SecurityAccessError(UdsError):
    """Seed/key exchange failed for a reason other than an NRC."""
