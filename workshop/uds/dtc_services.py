"""Reading DTCs (ISO 14229-1 0x19): the list by status mask, the ECU's DTC format, and each
DTC's snapshot and extended-data records, parsed into `Dtc`s."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workshop.uds.dtc import DEFAULT_STATUS_MASK, DTC_FORMAT_ISO14229_1
from workshop.uds.dtc_records import Dtc, parse_dtc_list, parse_extended, parse_snapshots
from workshop.uds.errors import NegativeResponseError

if TYPE_CHECKING:
    from workshop.uds.client import EcuTarget


class DtcServices:
    """Mixed into EcuClient, which provides `target` and the raw exchange."""

    target: EcuTarget
    _dtc_format: int | None

    def _raw(self, service: str, sid: int, subfunction: int | None,
             *data: bytes | memoryview) -> bytes:
        raise NotImplementedError

    def read_dtcs(self, mask: int = DEFAULT_STATUS_MASK, details: bool = True) -> list[Dtc]:
        payload = self._raw("ReadDTCInformation", 0x19, 0x02, bytes([mask]))
        found = parse_dtc_list(payload[2:])
        fmt = self.dtc_format(mask) if found else DTC_FORMAT_ISO14229_1
        dtcs = [Dtc(dtc, status, format=fmt) for dtc, status in found]
        if details:
            for dtc in dtcs:
                self._read_records(dtc)
        return dtcs

    def count_dtcs(self, mask: int = DEFAULT_STATUS_MASK) -> int:
        payload = self._raw("ReadDTCInformation", 0x19, 0x01, bytes([mask]))
        self._dtc_format = payload[2]
        return int.from_bytes(payload[3:5], "big")

    def dtc_format(self, mask: int = DEFAULT_STATUS_MASK) -> int:
        """The ECU's DTCFormatIdentifier: from the target, else its 0x19 01 answer (once)."""
        if self._dtc_format is None:
            try:
                self.count_dtcs(mask)
            except NegativeResponseError:
                # An ECU without 0x19 01 says nothing about its format: assume ISO 14229-1.
                self._dtc_format = DTC_FORMAT_ISO14229_1
        assert self._dtc_format is not None
        return self._dtc_format

    def supported_dtcs(self) -> list[Dtc]:
        payload = self._raw("ReadDTCInformation", 0x19, 0x0A, b"")
        found = parse_dtc_list(payload[2:])
        fmt = self.dtc_format() if found else DTC_FORMAT_ISO14229_1
        return [Dtc(dtc, status, format=fmt) for dtc, status in found]

    def _read_records(self, dtc: Dtc) -> None:
        key = dtc.dtc.to_bytes(3, "big")
        sizes = dict(self.target.snapshot_did_sizes)
        for sub, record in ((0x04, 0xFF), (0x06, 0xFF)):
            try:
                payload = self._raw("ReadDTCInformation", 0x19, sub, key + bytes([record]))
            except NegativeResponseError as exc:
                if exc.nrc in (0x12, 0x31):  # not supported by this ECU / no such record
                    continue
                raise
            body = payload[5:]  # skip sub-function, DTC (3) and status (1)
            if sub == 0x04:
                dtc.snapshots = parse_snapshots(body, sizes)
            else:
                dtc.extended = parse_extended(body, record)
