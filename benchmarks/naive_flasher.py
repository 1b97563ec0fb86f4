"""A straightforward flasher, as the open-source ones are written: udsoncan's Client over a
can-isotp CanStack, both with their default settings, one TransferData request per block.

Used only by benchmarks/flash.py, side by side with ours, on the same simulated ECU and bus.
"""

from __future__ import annotations

import time
import zlib

import can
import isotp
import udsoncan
from udsoncan.client import Client
from udsoncan.common.DataFormatIdentifier import DataFormatIdentifier
from udsoncan.common.MemoryLocation import MemoryLocation
from udsoncan.connections import PythonIsoTpConnection

from workshop.simulator.seedkey import ALGORITHMS
from workshop.vehicles import EcuDefinition


def naive_flash(bus: can.BusABC, ecu: EcuDefinition, address: int, image: bytes, *,
                patient: bool = False) -> float:
    """Program `image` at `address` with the ECU's own routine ids (its profile); returns
    the seconds from RequestDownload to the end of RequestTransferExit."""
    p = ecu.flash
    stack = isotp.CanStack(bus, address=isotp.Address(isotp.AddressingMode.Normal_11bits,
                                                      txid=ecu.request_id,
                                                      rxid=ecu.response_id))
    config = dict(udsoncan.configs.default_client_config)
    config["data_identifiers"] = {p.fingerprint_did: udsoncan.AsciiCodec(16)}
    if patient:
        # The usual fix in open-source flashers: udsoncan starts P2 when the request is
        # queued, not when its last frame left, so a 4 KiB block at 500 kbit/s (~150 ms on
        # the wire) times out against the ECU's 50 ms P2; they ignore the ECU's timing.
        config.update(use_server_timing=False, p2_timeout=5.0)
    with Client(PythonIsoTpConnection(stack), config=config) as client:
        client.change_session(3)
        client.change_session(2)
        seed = client.request_seed(p.security_level).service_data.seed
        algo = ALGORITHMS[ecu.sim_seed_key or ecu.seed_key or ""]
        client.send_key(p.security_level + 1, algo(seed, p.security_level))
        client.write_data_by_identifier(p.fingerprint_did, "NAIVE-FLASHER-01")
        size = -(-len(image) // p.sector_size) * p.sector_size
        erase = (bytes([0x44]) + address.to_bytes(4, "big") + size.to_bytes(4, "big"))
        client.routine_control(p.erase.id, 1, erase)
        t0 = time.perf_counter()
        location = MemoryLocation(address, len(image), address_format=32, memorysize_format=32)
        answer = client.request_download(location, DataFormatIdentifier(0, 0))
        per_block = answer.service_data.max_length - 2
        for i, start in enumerate(range(0, len(image), per_block)):
            client.transfer_data((i + 1) & 0xFF, image[start:start + per_block])
        client.request_transfer_exit()
        download_s = time.perf_counter() - t0
        crc = bytes([0x01]) + zlib.crc32(image).to_bytes(4, "big")
        client.routine_control(p.check_memory.id, 1, crc)
    return download_s
