"""An ECU's ODX/PDX description as a source beside its TOML definition.

A vehicle definition names it per ECU:

    [[ecus]]
    name = "ENGINE"
    odx = "engine.pdx"        # beside the definition (a name that leaves its folder is refused)
    variant = "engine_v2"     # optional: else identified from the ECU's answers

From the description the ECU takes the names, scaling, units and text tables of its DIDs
(identification and DTC snapshots), DTC texts, the ISO-TP block size and STmin and P2/P2*,
and from its ODX-F the programmable memory (PHYS-MEM) and the flash seed/key level
(SECURITY-METHOD) where the TOML gives none. What the TOML says explicitly wins; each
conflict is logged once per process and kept in `EcuOdx.conflicts` for `workshop ecu info`
to show. A description odxtools cannot read, or a variant it does not have, refuses the
whole definition.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop.foundation.addressing import ADDRESSING_11BIT
from workshop.foundation.errors import ConfigError
from workshop.vehicles.data_ids import (
    DataDescriptions,
    LayeredDescriptions,
    TableDescriptions,
)
from workshop.vehicles.odx import Description, VariantSummary, load_description
from workshop.vehicles.odx_flash import phys_ranges, security_level

if TYPE_CHECKING:
    from workshop.vehicles.definition import EcuDefinition, VehicleDefinition

log = logging.getLogger(__name__)

# ISO 14229-1 identification DIDs: F180-F19F standard, F1A0-F1EF vehicle manufacturer's
IDENT_DIDS = range(0xF180, 0xF1F0)

_reported: set[str] = set()  # conflicts already logged in this process


@dataclass(frozen=True)
class EcuOdx:
    """One ECU's description: the file, its variant (None: identified from the ECU's
    answers when first talked to) and the conflicts with the TOML found on loading."""

    file: Path
    description: Description = field(repr=False)
    variant: str | None = None
    conflicts: tuple[str, ...] = ()

    def summary(self, variant: str | None = None) -> VariantSummary:
        return self.description.summary(variant or self.variant or self._fallback())

    def data_descriptions(self, variant: str | None = None) -> TableDescriptions:
        return self.description.data_descriptions(variant or self.variant or self._fallback())

    def dtc_texts(self, variant: str | None = None) -> dict[int, str]:
        """DTC texts by the 3-byte DTC number."""
        return {d.code: d.text for d in self.summary(variant).dtcs if d.text}

    def ident_dids(self, variant: str | None = None) -> tuple[int, ...]:
        return tuple(d.did for d in self.summary(variant).dids if d.did in IDENT_DIDS)

    def _fallback(self) -> str:
        # before identification: the base variant (what every variant of the ECU shares)
        bases = [n for n, s in self.description.summaries.items() if s.kind == "BASE-VARIANT"]
        return bases[0] if bases else self.description.variants[0]


def descriptions_for(vehicle: VehicleDefinition, ecu: EcuDefinition,
                     variant: str | None = None) -> DataDescriptions:
    """What DTC details and identification of `ecu` decode with: the definition's tables
    first, then the ECU's description."""
    if ecu.odx is None:
        return vehicle.descriptions
    return LayeredDescriptions((vehicle.descriptions, ecu.odx.data_descriptions(variant)))


def link_settings(ecu: EcuDefinition, variant: str | None = None) -> dict[str, int]:
    """ISO-TP block size and STmin (ms, rounded up) the description gives the tester."""
    if ecu.odx is None:
        return {}
    timing = ecu.odx.summary(variant).timing
    out = {}
    if "block_size" in timing and 0 <= timing["block_size"] <= 0xFF:
        out["block_size"] = int(timing["block_size"])
    if "stmin_us" in timing and 0 <= timing["stmin_us"] <= 127_000:
        out["stmin_ms"] = math.ceil(timing["stmin_us"] / 1000)
    return out


def attach_descriptions(vehicle: VehicleDefinition, raw: dict[str, Any]) -> VehicleDefinition:
    """The vehicle with each ECU's `odx` description loaded and applied. Raises ConfigError
    (file name and reason) for a description that cannot be used."""
    raw_ecus = raw.get("ecus") or []
    ecus = list(vehicle.ecus)
    for i, (ecu, table) in enumerate(zip(ecus, raw_ecus, strict=False)):
        if "odx" in table:
            ecus[i] = _attach(vehicle, ecu, table, f"ecus[{i}]")
        elif "variant" in table:
            raise ConfigError(f"{ecus[i].name}: variant is set but no odx file names the "
                              "description it comes from",
                              hint="add odx = \"file.pdx\" or remove variant")
    return dataclasses.replace(vehicle, ecus=tuple(ecus))


def _attach(vehicle: VehicleDefinition, ecu: EcuDefinition, table: dict[str, Any],
            where: str) -> EcuDefinition:
    name, variant = table["odx"], table.get("variant")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.odx must be a file name, not {name!r}"[:200],
                          hint="name the ECU's .pdx or .odx file beside the definition")
    if variant is not None and (not isinstance(variant, str) or not variant.strip()):
        raise ConfigError(f"{where}.variant must be a variant's name, not {variant!r}"[:200],
                          hint="run 'workshop describe FILE' to see the variants")
    base = (vehicle.source.parent if vehicle.source else Path.cwd()).resolve()
    path = _inside(base, name, where)
    description = load_description(path)
    if variant is not None and variant not in description.summaries:
        raise ConfigError(f"{ecu.name}: {path.name} has no variant {variant!r}",
                          hint=f"choose one of: {', '.join(description.variants)}")
    odx = EcuOdx(path, description, variant)
    summary = odx.summary()
    conflicts: list[str] = []
    changes: dict[str, Any] = {}
    for key, ours in (("p2_ms", "p2_ms"), ("p2_star_ms", "p2_star_ms")):
        if ours not in summary.timing:
            continue
        theirs = round(summary.timing[ours])
        if key not in table:
            changes[key] = max(1, theirs)
        elif table[key] != theirs:
            conflicts.append(f"{key}: the definition says {table[key]}, the description "
                             f"{theirs}; using {table[key]}")
    for what, mine, theirs_id in (("request_id", ecu.request_id, summary.can_request_id),
                                  ("response_id", ecu.response_id, summary.can_response_id)):
        if theirs_id is not None and ecu.addressing == ADDRESSING_11BIT and theirs_id != mine:
            conflicts.append(f"{what}: the definition says 0x{mine:X}, the description "
                             f"0x{theirs_id:X}; using 0x{mine:X}")
    _flash_memory(ecu, table, description, conflicts, changes)
    texts = odx.dtc_texts()
    for d in ecu.dtcs:
        code = _dtc_number(d.code)
        if d.text and code in texts and texts[code] != d.text:
            conflicts.append(f"DTC {d.code} text: the definition says {d.text!r}, the "
                             f"description {texts[code]!r}; using the definition's")
    described = odx.data_descriptions()
    for did, mine_d in vehicle.descriptions.dids.items():
        theirs_d = described.did(did)
        if mine_d.name and theirs_d is not None and (
                (mine_d.name, mine_d.unit, mine_d.scale, mine_d.offset)
                != (theirs_d.name, theirs_d.unit, theirs_d.scale, theirs_d.offset)):
            conflicts.append(f"DID 0x{did:04X}: the definition says {_said(mine_d)}, the "
                             f"description {_said(theirs_d)}; using the definition's")
    for text in conflicts:
        key = f"{path}|{ecu.name}|{text}"
        if key not in _reported:
            _reported.add(key)
            log.warning("%s: %s conflicts with %s: %s", ecu.name, path.name,
                        "the vehicle definition", text)
    return dataclasses.replace(ecu, odx=dataclasses.replace(odx, conflicts=tuple(conflicts)),
                               **changes)


def _flash_memory(ecu: EcuDefinition, table: dict[str, Any], description: Description,
                  conflicts: list[str], changes: dict[str, Any]) -> None:
    """The ECU's programmable memory from its ODX-F ECU-MEMs' physical segments, and its
    flash profile's seed/key level from the sessions' SECURITY-METHOD, where the TOML gives
    none ([[ecus.memory]], [ecus.flash] security_level)."""
    from workshop.vehicles.definition import MemoryRange  # definition imports this module

    ecu_mems = [m for f in description.database.flashs for m in f.ecu_mems]
    ranges = sorted({(r.start, r.size) for m in ecu_mems for r in phys_ranges(m)})
    if ranges and "memory" not in table:
        overlapping = any(b[0] < a[0] + a[1] for a, b in itertools.pairwise(ranges))
        if not overlapping:
            changes["memory"] = tuple(MemoryRange(start, size) for start, size in ranges)
    levels = {level for m in ecu_mems for s in m.mem.sessions
              if (level := security_level([*s.securities, *(x for b in s.datablocks
                                                              for x in b.securities)])[0])
              is not None}
    if len(levels) != 1:
        return
    (level,) = levels
    flash = table.get("flash")
    mine = flash.get("security_level") if isinstance(flash, dict) else None
    if mine is None:
        changes["flash"] = dataclasses.replace(ecu.flash, security_level=level)
    elif mine != level:
        conflicts.append(f"flash security_level: the definition says 0x{mine:02X}, the "
                         f"description's SECURITY-METHOD 0x{level:02X}; using 0x{mine:02X}")


def _inside(base: Path, name: str, where: str) -> Path:
    """`name` resolved beside the definition; refused when it leaves that folder (absolute,
    `..`, or a link out of it): a shared definition must not read files elsewhere."""
    candidate = Path(name)
    if candidate.is_absolute() or ".." in candidate.parts or "\\" in name:
        raise ConfigError(f"{where}.odx {name!r} leaves the definition's folder",
                          hint="copy the description beside the vehicle definition and "
                          "name it without a path")
    path = (base / candidate).resolve()
    if not path.is_relative_to(base):
        raise ConfigError(f"{where}.odx {name!r} points outside the definition's folder",
                          hint="copy the description beside the vehicle definition")
    return path


def _said(d: Any) -> str:
    scaled = f" x{d.scale:g}" if d.scale != 1 else ""
    moved = f" {d.offset:+g}" if d.offset else ""
    return f"{d.name!r}{scaled}{moved}" + (f" {d.unit}" if d.unit else "")


def _dtc_number(code: str) -> int | None:
    """The definition's SAE J2012 form (P030100, P0301-00) as the 3-byte number ODX gives;
    None for other forms (J1939, ISO 11992-4: compared by nothing here)."""
    text = code.strip().upper().replace("-", "")
    if len(text) not in (5, 7) or text[0] not in "PCBU":
        return None
    try:
        number = "PCBU".index(text[0]) << 14 | int(text[1:5], 16)
        return number << 8 | (int(text[5:], 16) if len(text) == 7 else 0)
    except ValueError:
        return None
