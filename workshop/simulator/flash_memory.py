"""The simulated ECU's program flash: one bank (single-bank ECU) or two (A/B), validity of
each, the anti-rollback counter, the fingerprint, and what survives a power cut.

Flash is non-volatile: what was written stays through a power loss, but a bank is valid only
after the tester's checks passed on it, and the bootloader starts only a valid image. A
single-bank ECU erases the image it runs, so from the erase on it has no application and stays
in its bootloader until a new image is checked; an A/B ECU writes the other bank and keeps
running the old image until the new one is activated at a reset.

Persisted (survives a new process, like a real ECU on the bench) at each erase, transfer exit,
check, fingerprint and reset; TransferData in between is lost with the process, which leaves
the same state as a power cut mid-transfer: a bank that is not valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from workshop.foundation.paths import atomic_write
from workshop.packages.descriptor import Descriptor, embed_descriptor, find_descriptor
from workshop.packages.firmware import generate_image
from workshop.vehicles import EcuDefinition, MemoryRange

FACTORY_IMAGE_SIZE = 8192
DEFAULT_MEMORY = (MemoryRange(0, 0x40000),)


@dataclass
class Bank:
    ranges: tuple[MemoryRange, ...]
    data: list[bytearray] = field(default_factory=list)
    valid: bool = False
    images: dict[int, int] = field(default_factory=dict)  # address -> length written

    def __post_init__(self) -> None:
        if not self.data:
            self.data = [bytearray(b"\xff" * r.length) for r in self.ranges]

    def locate(self, address: int, length: int) -> tuple[int, int] | None:
        for i, r in enumerate(self.ranges):
            if r.start <= address and address + length <= r.end:
                return i, address - r.start
        return None

    def read(self, address: int, length: int) -> bytes:
        at = self.locate(address, length)
        if at is None:
            raise ValueError(f"0x{address:X}+{length} is outside memory")
        i, off = at
        return bytes(self.data[i][off:off + length])

    def write(self, address: int, data: bytes) -> None:
        at = self.locate(address, len(data))
        if at is None:
            raise ValueError(f"0x{address:X}+{len(data)} is outside memory")
        i, off = at
        self.data[i][off:off + len(data)] = data

    def erase(self, address: int, length: int) -> None:
        self.write(address, b"\xff" * length)
        for a in [a for a in self.images if address <= a < address + length]:
            del self.images[a]

    def descriptor(self) -> Descriptor | None:
        found = None
        for address, length in sorted(self.images.items()):
            found = find_descriptor(self.read(address, length)) or found
        return found


class FlashMemory:
    def __init__(self, definition: EcuDefinition, folder: Path, banks: str | None = None
                 ) -> None:
        self.definition = definition
        self.profile = definition.flash
        self.ranges = definition.memory or DEFAULT_MEMORY
        self._json = folder / f"{definition.name}.json"
        self._folder = folder
        self.write_count = 0  # erases and written TransferData blocks since start
        names = ("A", "B") if (banks or self.profile.banks) == "ab" else ("A",)
        self.banks = {n: Bank(self.ranges) for n in names}
        self.active = "A"
        self.pending: str | None = None
        self.counter = 1
        self.fingerprint = b""
        self.fingerprints: dict[int, bytes] = {}  # a bootloader family's fingerprint DIDs
        self.running = True  # the application runs (False: in the bootloader)
        if not self._load():
            self._factory()
        self.running = self.banks[self.active].valid

    # -- state -------------------------------------------------------------------------------

    @property
    def target(self) -> str:
        """The bank a download writes: the inactive one of an A/B pair, else the only one."""
        if len(self.banks) == 1:
            return self.active
        return "B" if self.active == "A" else "A"

    @property
    def in_boot_mode(self) -> bool:
        return not self.running

    def application_valid(self) -> bool:
        return self.running and self.banks[self.active].valid

    def active_image(self, address: int, length: int) -> bytes:
        return self.banks[self.active].read(address, length)

    def version(self) -> str | None:
        d = self.banks[self.active].descriptor()
        return d.version if d else None

    def _factory(self) -> None:
        version = self.definition.identification.get(0xF189, b"1.0.0").decode(
            "ascii", "replace")
        start = self.ranges[0].start
        image = embed_descriptor(generate_image(f"{self.definition.name}:{version}:{start}",
                                                FACTORY_IMAGE_SIZE), version, 1)
        bank = self.banks["A"]
        bank.write(start, image)
        bank.images[start] = len(image)
        bank.valid = True

    # -- transitions -------------------------------------------------------------------------

    def erase(self, address: int, length: int, first_in_session: bool = False) -> None:
        bank = self.banks[self.target]
        if first_in_session and self.target != self.active:
            bank.images.clear()  # an A/B bank receives a whole new application
        bank.erase(address, length)
        bank.valid = False
        self.pending = None
        if self.target == self.active:
            self.running = False  # a single-bank ECU just erased the application it ran
        self.write_count += 1
        self.save()

    def reboot(self, boot_fails: bool = False) -> None:
        """Reset or power-up: a checked image waiting for activation becomes active."""
        if self.pending is not None:
            self.active, self.pending = self.pending, None
            if boot_fails:
                self.running = False
            else:
                self.running = True
                d = self.banks[self.active].descriptor()
                if d is not None:
                    self.counter = max(self.counter, d.security_version)
            self.save()
            return
        self.running = self.banks[self.active].valid

    def activate_previous(self) -> bool:
        """A/B rollback: the other bank becomes pending when it holds a valid image."""
        other = self.target
        if len(self.banks) == 1 or not self.banks[other].valid:
            return False
        self.pending = other
        self.save()
        return True

    # -- persistence ---------------------------------------------------------------------------

    def save(self) -> None:
        doc = {"active": self.active, "pending": self.pending, "counter": self.counter,
               "fingerprint": self.fingerprint.hex(),
               "fingerprints": {f"{k:04X}": v.hex() for k, v in self.fingerprints.items()},
               "banks": {n: {"valid": b.valid, "images": {str(a): n_ for a, n_ in
                                                          b.images.items()}}
                         for n, b in self.banks.items()}}
        for name, bank in self.banks.items():
            atomic_write(self._bin(name), b"".join(bytes(d) for d in bank.data))
        atomic_write(self._json, json.dumps(doc, indent=1).encode())

    def _bin(self, bank: str) -> Path:
        return self._folder / f"{self.definition.name}-{bank}.bin"

    def _load(self) -> bool:
        try:
            doc = json.loads(self._json.read_text(encoding="utf-8"))
            self.active, self.pending = doc["active"], doc["pending"]
            self.counter, self.fingerprint = int(doc["counter"]), bytes.fromhex(
                doc["fingerprint"])
            self.fingerprints = {int(k, 16): bytes.fromhex(v)
                                 for k, v in doc.get("fingerprints", {}).items()}
            for name, bank in self.banks.items():
                raw = self._bin(name).read_bytes()
                saved = doc["banks"][name]
                bank.valid = bool(saved["valid"])
                bank.images = {int(a): int(n) for a, n in saved["images"].items()}
                pos = 0
                for i, r in enumerate(self.ranges):
                    bank.data[i][:] = raw[pos:pos + r.length]
                    pos += r.length
        except (OSError, ValueError, KeyError, TypeError):
            return False  # no state, or state from another memory map: factory state
        return True
