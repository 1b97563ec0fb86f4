"""DTC records read from an ECU, and parsing of snapshot (0x19 04) and extended (0x19 06) data.

Snapshot record layouts depend on each DID's length, which only the ECU's description knows;
with a known length table the DIDs are split, otherwise the record is kept as raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workshop.uds.dtc import DTC_FORMAT_ISO14229_1, DTC_FORMAT_NAMES, dtc_code, status_names


@dataclass
class Dtc:
    dtc: int
    status: int
    snapshots: dict[int, dict[str, str]] = field(default_factory=dict)  # rec -> DID/raw -> hex
    extended: dict[int, str] = field(default_factory=dict)  # rec -> hex
    text: str = ""
    format: int = DTC_FORMAT_ISO14229_1  # DTCFormatIdentifier the ECU declared

    @property
    def code(self) -> str:
        return dtc_code(self.dtc, self.format)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code,
                "format": DTC_FORMAT_NAMES.get(self.format, f"0x{self.format:02X}"),
                "status": self.status, "status_hex": f"0x{self.status:02X}",
                "status_bits": status_names(self.status), "text": self.text,
                "snapshots": {str(k): v for k, v in self.snapshots.items()},
                "extended_data": {str(k): v for k, v in self.extended.items()}}


def parse_dtc_list(payload: bytes) -> list[tuple[int, int]]:
    """DTC-and-status list after the availability mask (0x19 02 / 0x0A responses)."""
    out = []
    for i in range(0, len(payload) - len(payload) % 4, 4):
        dtc = int.from_bytes(payload[i:i + 3], "big")
        if dtc:
            out.append((dtc, payload[i + 3]))
    return out


def parse_snapshots(data: bytes, did_sizes: dict[int, int]) -> dict[int, dict[str, str]]:
    """[rec, count, (DID, data)*]* -> {rec: {"0x9000": "0BB8"}}; unknown sizes stay raw."""
    records: dict[int, dict[str, str]] = {}
    i = 0
    while i + 2 <= len(data):
        number, count = data[i], data[i + 1]
        i += 2
        values: dict[str, str] = {}
        for _ in range(count):
            did = int.from_bytes(data[i:i + 2], "big")
            size = did_sizes.get(did)
            if size is None or i + 2 + size > len(data):
                values["raw"] = data[i:].hex().upper()
                records[number] = values
                return records
            values[f"0x{did:04X}"] = data[i + 2:i + 2 + size].hex().upper()
            i += 2 + size
        records[number] = values
    return records


def parse_extended(data: bytes, record: int) -> dict[int, str]:
    """One requested record: [rec, data...]; record FF: kept as one raw blob under FF."""
    if not data:
        return {}
    if record in (0xFE, 0xFF):
        return {record: data.hex().upper()}
    return {data[0]: data[1:].hex().upper()}
