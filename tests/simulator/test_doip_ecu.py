"""An Ethernet ECU behind the simulated DoIP gateway (no CAN hop): the same UDS server and
bootloader as the CAN ECUs, offering 64 KiB blocks in its 0x34 answer; the flash's download
step over DoIP on loopback uses them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from workshop.flash.codec import address_length
from workshop.flash.transfer import download
from workshop.services.connection import VehicleConnection
from workshop.simulator.doip_ecu import (
    ETHERNET_BLOCK_LENGTH,
    DoipNativeEcu,
    ethernet_definition,
)
from workshop.simulator.doip_gateway import DoipGateway
from workshop.transport.doip import DoipConnection
from workshop.transport.doip_trace import DoipTraceEvent
from workshop.uds.client import EcuClient

HEADUNIT_ADDRESS = 0x1100


@pytest.fixture
def headunit(demo: VehicleConnection) -> Iterator[tuple[DoipGateway, DoipNativeEcu]]:
    assert demo.simulator is not None
    definition = ethernet_definition(demo.vehicle.ecus[0], "HEADUNIT")
    ecu = DoipNativeEcu(definition, demo.simulator.store)
    gateway = DoipGateway(demo.simulator, announce_port=None)
    gateway.attach(ecu, HEADUNIT_ADDRESS)
    ecu.start()
    try:
        with gateway:
            yield gateway, ecu
    finally:
        ecu.stop()


def test_ethernet_ecu_answers_over_doip(demo: VehicleConnection,
                                        headunit: tuple[DoipGateway, DoipNativeEcu]) -> None:
    gateway, ecu = headunit
    assert gateway.addresses["HEADUNIT"] == HEADUNIT_ADDRESS
    target = dataclasses.replace(demo.target(demo.vehicle.ecus[0]), name="HEADUNIT",
                                 doip_address=HEADUNIT_ADDRESS)
    with DoipConnection("127.0.0.1", gateway.port) as conn, EcuClient(conn, target) as client:
        assert client.read_did(0xF197) == ecu.definition.identification[0xF197]


def test_download_uses_the_ecus_64k_blocks(demo: VehicleConnection,
                                          headunit: tuple[DoipGateway, DoipNativeEcu]) -> None:
    gateway, ecu = headunit
    profile = ecu.definition.flash
    region = ecu.definition.memory[0]
    image = bytes(i * 7 & 0xFF for i in range(region.length))
    target = dataclasses.replace(demo.target(demo.vehicle.ecus[0]), name="HEADUNIT",
                                 doip_address=HEADUNIT_ADDRESS)
    sent: list[DoipTraceEvent] = []
    with (DoipConnection("127.0.0.1", gateway.port, observers=(sent.append,)) as conn,
          EcuClient(conn, target) as client):
        client.change_session(profile.extended_session)
        client.change_session(profile.programming_session)
        client.unlock(profile.security_level, profile.seed_key)
        client.write_did(profile.fingerprint_did, b"WS-DOIP-TEST")  # before erase, as flashes do
        client.routine(profile.erase.id, 1, address_length(
            profile.address_and_length_format, region.start, region.length), timeout_s=30)
        blocks: list[int] = []
        used = download(client, profile, data_format=0x00, address=region.start,
                        image_size=len(image), data=image, on_block=blocks.append)
    assert used == ETHERNET_BLOCK_LENGTH
    assert blocks[0] == ETHERNET_BLOCK_LENGTH - 2  # one DoIP message per 64 KiB block
    assert sum(blocks) == len(image)
    transfers = [e for e in sent if e.direction == "tx" and e.data[:1] == b"\x36"]
    assert len(transfers) == len(blocks)
    assert ecu.flash.banks[ecu.flash.target].read(region.start, len(image)) == image
