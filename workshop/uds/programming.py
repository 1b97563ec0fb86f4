"""Programming services (ISO 14229-1 0x34 RequestDownload, 0x36 TransferData, 0x37
RequestTransferExit), sent raw so the tester controls every byte (ALFID, block counter)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workshop.uds.errors import InvalidResponseError

if TYPE_CHECKING:
    from workshop.uds.client import EcuTarget


class ProgrammingServices:
    """Mixed into EcuClient, which provides `target` and the raw exchange."""

    target: EcuTarget

    def _raw(self, service: str, sid: int, subfunction: int | None,
             *data: bytes | memoryview) -> bytes:
        raise NotImplementedError

    def request_download(self, data_format: int, address_format: int, address: int,
                         size: int) -> int:
        """RequestDownload; the ECU's maxNumberOfBlockLength (SID and counter included)."""
        address_bytes, size_bytes = address_format & 0xF, address_format >> 4
        body = (bytes([data_format, address_format]) + address.to_bytes(address_bytes, "big")
                + size.to_bytes(size_bytes, "big"))
        answer = self._raw("RequestDownload", 0x34, None, body)
        length_bytes = answer[0] >> 4 if answer else 0
        if not 1 <= length_bytes <= 4 or len(answer) < 1 + length_bytes:
            raise InvalidResponseError(f"{self.target.name} sent a malformed RequestDownload "
                                       f"answer: {answer.hex()}",
                                       hint="the bootloader does not follow ISO 14229 here")
        return int.from_bytes(answer[1:1 + length_bytes], "big")

    def transfer_data(self, counter: int, data: bytes | memoryview) -> None:
        answer = self._raw("TransferData", 0x36, None, bytes([counter]), data)  # not copied
        if answer[:1] != bytes([counter]):
            raise InvalidResponseError(f"{self.target.name} confirmed TransferData block "
                                       f"{answer[:1].hex() or 'none'}, not {counter:02x}",
                                       hint="the bootloader lost the block sequence")

    def request_transfer_exit(self) -> bytes:
        return self._raw("RequestTransferExit", 0x37, None, b"")

    def request_upload(self, data_format: int, address_format: int, address: int,
                       size: int) -> int:
        """RequestUpload (0x35); the ECU's maxNumberOfBlockLength (SID and counter included)."""
        body = (bytes([data_format, address_format])
                + address.to_bytes(address_format & 0xF, "big")
                + size.to_bytes(address_format >> 4, "big"))
        answer = self._raw("RequestUpload", 0x35, None, body)
        length_bytes = answer[0] >> 4 if answer else 0
        if not 1 <= length_bytes <= 4 or len(answer) < 1 + length_bytes:
            raise InvalidResponseError(f"{self.target.name} sent a malformed RequestUpload "
                                       f"answer: {answer.hex()}",
                                       hint="the bootloader does not follow ISO 14229 here")
        return int.from_bytes(answer[1:1 + length_bytes], "big")

    def upload_block(self, counter: int) -> bytes:
        """One TransferData block of an upload: the data the ECU sends."""
        answer = self._raw("TransferData", 0x36, None, bytes([counter]))
        if answer[:1] != bytes([counter]):
            raise InvalidResponseError(f"{self.target.name} sent upload block "
                                       f"{answer[:1].hex() or 'none'}, not {counter:02x}",
                                       hint="the bootloader lost the block sequence")
        return answer[1:]

    def read_memory(self, address_format: int, address: int, size: int) -> bytes:
        """ReadMemoryByAddress (0x23)."""
        body = (bytes([address_format]) + address.to_bytes(address_format & 0xF, "big")
                + size.to_bytes(address_format >> 4, "big"))
        data = self._raw("ReadMemoryByAddress", 0x23, None, body)
        if len(data) != size:
            raise InvalidResponseError(f"{self.target.name} answered ReadMemoryByAddress "
                                       f"with {len(data)} bytes, not {size}",
                                       hint="the ECU does not follow ISO 14229 here")
        return data
