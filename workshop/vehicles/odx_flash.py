"""ODX-F flash data of a loaded description (odxtools' database) as plain records: the
sessions, the data blocks each writes, their segments, expected and own identifications."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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
                                for x in session.securities]))
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
