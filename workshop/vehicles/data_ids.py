"""What the bytes of a data identifier mean: name, size, scaling and unit.

A vehicle definition gives them in `[snapshot_dids]` (DTC snapshot records, by DID) and
`[extended_records]` (DTC extended data records, by record number; the sizes also split the
answer to "all records", 0xFF). Either form is accepted:

    "9000" = 2                                      # size only: shown as hex
    "9001" = { size = 1, name = "Coolant temperature", offset = -40, unit = "°C" }

value = raw (unsigned big-endian, or two's complement with signed = true) * scale + offset.
The decoding reads only `DataDescriptions`; an ODX description supplies the same
(workshop.vehicles.odx_source), with text tables (raw value -> words) and ASCII values too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class DataDescription:
    size: int
    name: str = ""
    unit: str = ""
    scale: float = 1.0
    offset: float = 0.0
    signed: bool = False
    # TEXTTABLE: raw value -> words ("2" -> "running"); a raw value not listed is undescribed
    texts: tuple[tuple[int, str], ...] = ()
    # "ascii": the bytes are text (any length when size is 0); "": a number as above
    encoding: str = ""

    def value(self, raw: bytes) -> float | None:
        """The physical value, or None when the bytes are not `size` long or no name says
        what they are (then the caller shows them as hex)."""
        if len(raw) != self.size or not self.name or not 1 <= self.size <= 8:
            return None
        return int.from_bytes(raw, "big", signed=self.signed) * self.scale + self.offset

    def text(self, raw: bytes) -> str | None:
        """'3000 rpm', '50 °C'; None when the value cannot be given in words."""
        if self.encoding == "ascii":
            if not self.name or (self.size and len(raw) != self.size):
                return None
            text = raw.rstrip(b"\x00 \xff")
            return text.decode("ascii") if all(0x20 <= b < 0x7F for b in text) else None
        if self.texts:
            if len(raw) != self.size or not self.name:
                return None
            return dict(self.texts).get(int.from_bytes(raw, "big", signed=self.signed))
        value = self.value(raw)
        if value is None:
            return None
        number = f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")
        return f"{number} {self.unit}".strip()


class DataDescriptions(Protocol):
    """Where the names and units come from (the vehicle definition today, ODX later)."""

    def did(self, did: int) -> DataDescription | None: ...

    def extended_record(self, record: int) -> DataDescription | None: ...


@dataclass(frozen=True)
class TableDescriptions:
    """Descriptions from a vehicle definition's tables."""

    dids: dict[int, DataDescription] = field(default_factory=dict)
    extended: dict[int, DataDescription] = field(default_factory=dict)

    def did(self, did: int) -> DataDescription | None:
        return self.dids.get(did)

    def extended_record(self, record: int) -> DataDescription | None:
        return self.extended.get(record)


NO_DESCRIPTIONS = TableDescriptions()


@dataclass(frozen=True)
class LayeredDescriptions:
    """Several sources, the first that names a DID or record wins (the vehicle definition's
    tables before an ECU's ODX description). An entry that only gives a size names nothing:
    a later source that names it is taken instead."""

    sources: tuple[DataDescriptions, ...]

    def did(self, did: int) -> DataDescription | None:
        return _first([s.did(did) for s in self.sources])

    def extended_record(self, record: int) -> DataDescription | None:
        return _first([s.extended_record(record) for s in self.sources])


def _first(found: list[DataDescription | None]) -> DataDescription | None:
    present = [d for d in found if d is not None]
    return next((d for d in present if d.name), present[0] if present else None)

_KEYS = {"size", "name", "unit", "scale", "offset", "signed"}


def parse_did_description(value: Any, where: str) -> DataDescription:
    """One `[snapshot_dids]` entry: a size, or a table with size and the optional keys.
    Raises ValueError with the place and what is wrong."""
    if isinstance(value, int) and not isinstance(value, bool):
        return DataDescription(_size(value, where))
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a size (integer) or a table with size, name, "
                         f"unit, scale, offset, signed; not {value!r}"[:200])
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)} (known: "
                         f"{', '.join(sorted(_KEYS))})")
    if "size" not in value:
        raise ValueError(f"{where}.size is missing")
    size = value["size"]
    if not isinstance(size, int) or isinstance(size, bool):
        raise ValueError(f"{where}.size must be an integer, not {size!r}")
    out: dict[str, Any] = {"size": _size(size, where)}
    for key in ("name", "unit"):
        if key in value:
            if not isinstance(value[key], str):
                raise ValueError(f"{where}.{key} must be text, not {value[key]!r}")
            out[key] = value[key]
    for key in ("scale", "offset"):
        if key in value:
            if not isinstance(value[key], int | float) or isinstance(value[key], bool):
                raise ValueError(f"{where}.{key} must be a number, not {value[key]!r}")
            out[key] = float(value[key])
    if "signed" in value:
        if not isinstance(value["signed"], bool):
            raise ValueError(f"{where}.signed must be true or false")
        out["signed"] = value["signed"]
    return DataDescription(**out)


def _size(size: int, where: str) -> int:
    if not 0 <= size <= 0xFFFF:
        raise ValueError(f"{where} size is {size}, must be 0..65535")
    return size
