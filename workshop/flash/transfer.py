"""RequestDownload, TransferData blocks and RequestTransferExit for one region.

Blocks are as large as the ECU allows (its maxNumberOfBlockLength, capped by the profile),
because each block costs a round trip: with 4 KiB blocks a 500 kbit/s bus spends almost all
its time carrying payload. A block whose answer does not come is sent again with the same
counter: the ECU accepts a repeat of the last block (ISO 14229-1) and writes it once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from workshop.packages.compression import compress
from workshop.uds.client import EcuClient
from workshop.uds.errors import EcuTimeoutError, InvalidResponseError
from workshop.vehicles.flash_profile import FlashProfile

BLOCK_ATTEMPTS = 3
RATE_WINDOW_S = 1.0
# The ECU writes a block before it answers; allow this multiple of its declared write time.
WRITE_TIME_FACTOR = 3.0
BLOCK_MARGIN_S = 5.0


class RateMeter:
    """Bytes per second over the last second: what the technician sees move."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()
        self.total = 0

    def add(self, n: int) -> float:
        now = time.monotonic()
        self.total += n
        self._samples.append((now, self.total))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW_S:
            self._samples.popleft()
        t0, b0 = self._samples[0]
        return (self.total - b0) / (now - t0) if now > t0 else 0.0


def encode(mode: str, image: bytes, patch: bytes | None) -> bytes:
    """What crosses the bus for a region in `mode` (the ECU rebuilds `image` from it)."""
    if mode == "lz4":
        return compress(image)
    if mode == "bsdiff4":
        assert patch is not None
        return patch
    return image


def download(ecu: EcuClient, profile: FlashProfile, *, data_format: int, address: int,
             image_size: int, data: bytes, on_block: Callable[[int], None]) -> int:
    """Send `data` as one download of `image_size` bytes at `address`; returns the block
    length used. `on_block(n)` after each block the ECU confirmed."""
    alfid = profile.address_and_length_format
    with ecu.operation_timeout(BLOCK_MARGIN_S):
        max_len = ecu.request_download(data_format, alfid, address, image_size)
    if profile.max_block_length is not None:
        max_len = min(max_len, profile.max_block_length)
    per_block = max_len - 2  # SID and block sequence counter
    if per_block < 1:
        raise ValueError(f"maxNumberOfBlockLength {max_len} leaves no room for data")
    counter = 1
    image = memoryview(data)  # blocks are views: a 64 KiB block is copied once, into its request
    for start in range(0, len(data), per_block):
        block = image[start:start + per_block]
        limit = BLOCK_MARGIN_S + WRITE_TIME_FACTOR * len(block) / profile.write_bytes_per_s
        for attempt in range(1, BLOCK_ATTEMPTS + 1):
            try:
                with ecu.operation_timeout(limit):
                    ecu.transfer_data(counter, block)
                break
            except EcuTimeoutError:
                if attempt == BLOCK_ATTEMPTS:
                    raise
        on_block(len(block))
        counter = (counter + 1) & 0xFF
    with ecu.operation_timeout(BLOCK_MARGIN_S + WRITE_TIME_FACTOR * image_size
                               / profile.write_bytes_per_s):
        ecu.request_transfer_exit()
    return max_len


def read_out(ecu: EcuClient, profile: FlashProfile, *, address: int, length: int,
             on_block: Callable[[int], None]) -> bytes:
    """What the ECU holds at [address, address + length), the way its profile reads it:
    0x35 RequestUpload and TransferData blocks, or 0x23 ReadMemoryByAddress in chunks."""
    alfid = profile.address_and_length_format
    out = bytearray()
    if profile.readout == "read_memory":
        while len(out) < length:
            n = min(profile.readout_chunk, length - len(out))
            with ecu.operation_timeout(BLOCK_MARGIN_S):
                out += ecu.read_memory(alfid, address + len(out), n)
            on_block(n)
        return bytes(out)
    with ecu.operation_timeout(BLOCK_MARGIN_S):
        ecu.request_upload(0x00, alfid, address, length)
    counter = 1
    while len(out) < length:
        with ecu.operation_timeout(BLOCK_MARGIN_S):
            block = ecu.upload_block(counter)
        if not block:
            raise InvalidResponseError(f"{ecu.target.name} sent an empty upload block",
                                       hint="the bootloader does not follow ISO 14229 here")
        out += block
        on_block(len(block))
        counter = (counter + 1) & 0xFF
    with ecu.operation_timeout(BLOCK_MARGIN_S):
        ecu.request_transfer_exit()
    return bytes(out[:length])
