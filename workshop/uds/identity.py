"""ECU identification: the ISO 14229-1 standard DIDs F180-F19E read into a typed record."""

from __future__ import annotations

from dataclasses import dataclass, field

from workshop.uds.nrc import nrc_name
from workshop.vehicles.data_ids import DataDescriptions

STANDARD_DIDS: dict[int, str] = {
    0xF180: "bootSoftwareIdentification",
    0xF181: "applicationSoftwareIdentification",
    0xF182: "applicationDataIdentification",
    0xF183: "bootSoftwareFingerprint",
    0xF184: "applicationSoftwareFingerprint",
    0xF186: "activeDiagnosticSession",
    0xF187: "sparePartNumber",
    0xF188: "ecuSoftwareNumber",
    0xF189: "ecuSoftwareVersion",
    0xF18A: "systemSupplierIdentifier",
    0xF18B: "ecuManufacturingDate",
    0xF18C: "ecuSerialNumber",
    0xF190: "vin",
    0xF191: "ecuHardwareNumber",
    0xF192: "systemSupplierEcuHardwareNumber",
    0xF193: "systemSupplierEcuHardwareVersion",
    0xF194: "systemSupplierEcuSoftwareNumber",
    0xF195: "systemSupplierEcuSoftwareVersion",
    0xF197: "systemName",
    0xF19E: "odxFileIdentifier",
}
# What a scan reads: the DIDs that identify part, software and vehicle.
SCAN_DIDS = (0xF187, 0xF189, 0xF195, 0xF191, 0xF190, 0xF18C, 0xF18A, 0xF180, 0xF188, 0xF193,
             0xF197, 0xF19E)


def decode_did_value(raw: bytes) -> str:
    """Identification DIDs are ASCII by convention; anything else is shown as hex."""
    text = raw.rstrip(b"\x00 \xff")
    if text and all(0x20 <= b < 0x7F for b in text):
        return text.decode("ascii")
    return raw.hex().upper()


def did_label(did: int) -> str:
    return STANDARD_DIDS.get(did, f"0x{did:04X}")


@dataclass
class EcuIdentity:
    """What an ECU told about itself; `failed` holds each DID it refused, with the reason
    (e.g. "NRC 0x22 conditionsNotCorrect"), so one refusal does not hide the rest."""

    values: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    raw: dict[int, bytes] = field(default_factory=dict)  # as the ECU sent each value
    names: dict[int, str] = field(default_factory=dict)  # a description's, where not standard

    def describe(self, source: DataDescriptions) -> None:
        """Values in words and units where `source` describes the DID; bytes that are
        neither described nor text are marked "(undescribed) 0BB8"."""
        for did, data in self.raw.items():
            d = source.did(did)
            text = d.text(data) if d is not None else None
            if text is not None:
                self.values[did] = text
                if did not in STANDARD_DIDS and d is not None:
                    self.names[did] = f"{d.name} (0x{did:04X})"
            elif self.values.get(did) == data.hex().upper():
                self.values[did] = f"(undescribed) {data.hex().upper()}"

    def refused(self, did: int, nrc: int) -> None:
        self.failed[did] = f"NRC 0x{nrc:02X} {nrc_name(nrc)}"

    def get(self, did: int) -> str | None:
        return self.values.get(did)

    @property
    def vin(self) -> str | None:
        return self.values.get(0xF190)

    @property
    def part_number(self) -> str | None:
        return self.values.get(0xF187)

    @property
    def hardware_number(self) -> str | None:
        return self.values.get(0xF191)

    @property
    def software_version(self) -> str | None:
        return self.values.get(0xF189) or self.values.get(0xF195)

    def by_name(self) -> dict[str, str]:
        return {self.label(did): value for did, value in sorted(self.values.items())}

    def failed_by_name(self) -> dict[str, str]:
        return {self.label(did): why for did, why in sorted(self.failed.items())}

    def label(self, did: int) -> str:
        return self.names.get(did) or did_label(did)
