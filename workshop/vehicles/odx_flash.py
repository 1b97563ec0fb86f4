"""ODX-F flash data of a loaded description (odxtools' database) as plain records: the
sessions, the data blocks each writes, their segments, expected and own identifications."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FlashSegment:
    start: int
    size: int | None         # uncompressed, where the description gives it
    compressed_size: int | None


@dataclass(frozen=True)
class FlashBlock:
    name: str
    data_type: str           # CODE, DATA, ...
    logical_block_index: int | None
    flashdata: str           # the FLASHDATA it takes its bytes from ("" when none)
    segments: list[FlashSegment]
    own_idents: dict[str, str]


@dataclass(frozen=True)
class FlashSession:
    """An ODX-F session: the blocks one flash writes, what the ECU must identify as first."""

    name: str
    ecu_mem: str
    expected_idents: dict[str, list[str]]
    blocks: list[FlashBlock]
    checksums: list[str]
    securities: list[str]
    memory: list[str] = field(default_factory=list)  # the ECU-MEM's PHYS-MEM segments

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def flash_sessions(database: Any) -> list[FlashSession]:
    out = []
    for flash in database.flashs:
        for ecu_mem in flash.ecu_mems:
            for session in ecu_mem.mem.sessions:
                out.append(FlashSession(
                    name=session.short_name, ecu_mem=ecu_mem.short_name,
                    expected_idents={e.short_name: [str(v.value) for v in e.ident_values]
                                     for e in session.expected_idents},
                    blocks=[_flash_block(b) for b in session.datablocks],
                    checksums=[f"{c.short_name} ({c.checksum_alg or '?'})"
                               for c in session.checksums],
                    securities=[f"security method {getattr(x.security_method, 'value_raw', '')}"
                                for x in session.securities],
                    memory=[f"{r.name} 0x{r.start:X}+0x{r.size:X}" for r in phys_ranges(ecu_mem)]))
    return out


def _flash_block(block: Any) -> FlashBlock:
    data = block.flashdata
    return FlashBlock(
        name=block.short_name, data_type=str(block.data_type),
        logical_block_index=block.logical_block_index,
        flashdata=data.short_name if data is not None else "",
        segments=[FlashSegment(x.source_start_address, x.uncompressed_size, x.compressed_size)
                  for x in block.segments],
        own_idents={o.short_name: str(o.ident_value.value) for o in block.own_idents})


@dataclass(frozen=True)
class PhysRange:
    """A PHYS-SEGMENT of an ECU-MEM's PHYS-MEM: memory the ECU has."""

    name: str
    start: int
    size: int
    block_size: int | None

    @property
    def end(self) -> int:
        return self.start + self.size

    def holds(self, start: int, size: int) -> bool:
        return self.start <= start and start + size <= self.end


def phys_ranges(ecu_mem: Any) -> list[PhysRange]:
    """The physical memory an ECU-MEM declares ([] when it declares none)."""
    phys = ecu_mem.phys_mem
    out = []
    for seg in (phys.phys_segments if phys is not None else []):
        size = getattr(seg, "size", None)
        if size is None:  # ADDRDEF: END-ADDRESS is the last byte
            size = seg.end_address - seg.start_address + 1
        out.append(PhysRange(seg.short_name, seg.start_address, size, seg.block_size))
    return out


def find_session(database: Any, name: str) -> tuple[Any, Any] | None:
    """(ECU-MEM, SESSION) of the flash session `name`, None when no ECU-MEM has it."""
    for flash in database.flashs:
        for ecu_mem in flash.ecu_mems:
            for session in ecu_mem.mem.sessions:
                if session.short_name == name:
                    return ecu_mem, session
    return None


def security_level(securities: Any) -> tuple[int | None, str]:
    """The seed/key level (requestSeed sub-function) a SECURITY-METHOD names, and the
    method's text. ODX leaves the method's meaning to the OEM; read here as a number
    (0x11, 17): any other text is given back with level None."""
    for sec in securities:
        method = sec.security_method
        if method is None:
            continue
        text = str(method.value_raw).strip()
        try:
            level = int(text, 16 if method.value_type.value == "A_BYTEFIELD" else 0)
        except ValueError:
            return None, text
        return (level, text) if 1 <= level <= 0x7E else (None, text)
    return None, ""


def ident_kind(name: str) -> str | None:
    """What an EXPECTED-IDENT or OWN-IDENT stands for, by its short name: "hardware",
    "security_version" (anti-rollback) or "version" (software); None for other names."""
    n = name.lower()
    if "hardware" in n or n in ("hw", "hw_number"):
        return "hardware"
    if "security" in n or "rollback" in n:
        return "security_version"
    if "version" in n or n in ("sw", "sw_number"):
        return "version"
    return None
