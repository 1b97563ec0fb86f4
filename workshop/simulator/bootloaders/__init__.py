"""Bootloader conventions of simulated ECUs.

The original simulated ECUs follow their flash profile (the `profile` convention). The
families here are written to real OEM conventions and never read the tester's profile:
they are "ECUs we did not write", flashed by the tester through its profile alone.
- vag: logical-block erase `31 01 FF00 01 <block>`, 0x34 with the block number as its
  address, checksum routine 0x0202 with CRC-32, F15A workshop-code fingerprint, level 0x11.
- psa: zones, erase finished when a repeated start answers status 02 (01: still erasing),
  check routine 0x0203 with the zone and CRC-16/X.25, fingerprint F184 after the download.
- polling: 31 03 result polling for erase and check, another security level before erase,
  NRC 0x37 for a while after power-on, fingerprint in F198 and F199, CAN FD frames.
"""

from __future__ import annotations

from workshop.simulator.bootloaders.common import Convention
from workshop.vehicles import EcuDefinition


def for_ecu(definition: EcuDefinition) -> Convention:
    family = definition.sim_bootloader
    if family == "vag":
        from workshop.simulator.bootloaders import vag
        return vag.CONVENTION
    if family == "psa":
        from workshop.simulator.bootloaders import psa
        return psa.CONVENTION
    if family == "polling":
        from workshop.simulator.bootloaders import polling
        return polling.CONVENTION
    p = definition.flash
    return Convention("profile", p.security_level, p.write_bytes_per_s, p.max_block_length,
                      banks=p.banks)
