"""Reading a single-bank ECU's running image out before it is erased, so that a failed
confirmation can be rolled back on a fresh install: 0x35 RequestUpload or 0x23
ReadMemoryByAddress as the profile says, confirmed by the ECU's own checksum routine where
that routine takes an address, recorded in the audit log, then kept in the image store."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from workshop.flash import codec
from workshop.flash.checksums import DIGESTS
from workshop.flash.errors import StepError
from workshop.flash.plan import READOUT_SERVICES
from workshop.flash.transfer import read_out
from workshop.packages import images
from workshop.packages.manifest import Region
from workshop.vehicles import EcuDefinition

if TYPE_CHECKING:
    from workshop.flash.ecu_flash import EcuFlash

CHECK_LIMIT_S = 30.0


def keep_running_image(flash: EcuFlash) -> None:
    """Read what the ECU runs out of every range about to be erased, check it with the
    ECU's own checksum routine where that routine takes an address, and keep it as the
    rollback image: the audit record of the read-out first, then the image store."""
    version = flash.plan.version_before
    assert version is not None
    definition, found, how = flash.plan.definition, [], []
    for t in flash.plan.transfers:
        r = t.region
        with flash.step(f"read out region {t.index}", address=f"0x{r.erase_address:X}",
                       length=r.erase_length,
                       service=READOUT_SERVICES[flash.profile.readout]) as out:
            data = read_out(flash.ecu, flash.profile, address=r.erase_address,
                            length=r.erase_length, on_block=lambda _n: None)
            out["sha256"] = hashlib.sha256(data).hexdigest()
            out["verified"] = _verify(flash, definition, r, data)
        found.append((r, data))
        how.append(str(out["verified"]))
    flash.audit("flash.readout", {
        "version": version,
        "regions": [{"address": r.erase_address, "length": r.erase_length,
                     "sha256": hashlib.sha256(data).hexdigest()} for r, data in found],
        "verified": "; ".join(dict.fromkeys(how))})
    for _, data in found:
        images.put_image(data)
    stored = [images.StoredRegion(hashlib.sha256(data).hexdigest(), r.erase_address,
                                  r.erase_length, r.erase_address, r.erase_length)
              for r, data in found]
    images.remember_version(flash.plan.ecu, version, stored)
    # this run read and recorded them itself: the rollback of this flash may use them
    flash.plan.rollback_images = stored


def _verify(flash: EcuFlash, definition: EcuDefinition, r: Region, data: bytes) -> str:
    _, memory = codec.memory_range(definition, r.erase_address, r.erase_length)
    check = (memory.check_memory if memory is not None and memory.check_memory
             else flash.profile.check_memory)
    layout = set(check.layout)
    if "address_length" not in layout and not {"address", "length"} <= layout:
        return (f"not verified: check routine 0x{check.id:04X} takes no address, so it "
                "cannot check a range that was not just written")
    index, m = codec.memory_range(definition, r.erase_address, r.erase_length)
    values = codec.ArgValues(flash.profile.address_and_length_format, r.erase_address,
                             r.erase_length, m.block if m and m.block is not None else index,
                             index, data, flash.plan.update.check_memory)
    answer = flash.run_routine(check, codec.routine_args(check.layout, values),
                              CHECK_LIMIT_S, "check of the read-out")
    if codec.routine_status(answer) != check.status_ok:
        raise StepError(f"{flash.plan.ecu}: the read-out of 0x{r.erase_address:X} does not "
                        "match what the ECU's checksum routine computes; nothing was "
                        "erased and the read-out is not kept",
                        hint="try again; if it repeats, the ECU's upload is unreliable")
    digests = [f for f in check.layout if f in DIGESTS or f == "checksum"]
    return f"ECU checksum routine 0x{check.id:04X} {'/'.join(digests)}"
