"""An ECU read through its description: the variant identified from its answers (ODX
ECU-VARIANT-PATTERNs), identification values and DTC texts in words.

Used by the scan (and so `dtc read`, the app and the report) and `workshop ecu info`, with the
client they already hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from workshop.foundation.errors import ConfigError
from workshop.uds.client import EcuClient
from workshop.uds.dtc_records import Dtc
from workshop.uds.identity import SCAN_DIDS, EcuIdentity
from workshop.vehicles import EcuDefinition
from workshop.vehicles.data_ids import NO_DESCRIPTIONS, DataDescriptions, LayeredDescriptions


def ecu_variant(client: EcuClient, ecu: EcuDefinition | None) -> tuple[str | None, str]:
    """The variant the definition names, or the one whose patterns the ECU's answers
    match, with a note in words when it had to be assumed ("" otherwise); (None, "") when the
    ECU has no description. Answers that match no variant are no reason to leave the ECU
    unread: its base variant (what every variant shares) is assumed, and the note says so."""
    if ecu is None or ecu.odx is None:
        return None, ""
    if ecu.odx.variant is not None:
        return ecu.odx.variant, ""
    description = ecu.odx.description
    if not description.patterned():
        variants = [n for n, s in description.summaries.items() if s.kind == "ECU-VARIANT"]
        if len(variants) <= 1:  # one ECU variant, or only a base variant: nothing to choose
            return (variants[0] if variants else ecu.odx.summary().name), ""
        raise ConfigError(f"{ecu.name}: {ecu.odx.file.name} has {len(variants)} variants and "
                          "no patterns to tell them apart",
                          hint=f"name the variant in the vehicle definition (variant = one of "
                               f"{', '.join(variants)})")
    found = description.identify(client.request)
    if found is not None:
        return found, ""
    base = ecu.odx.summary(None)
    kind = "its base variant" if base.kind == "BASE-VARIANT" else "variant"
    return base.name, (f"its answers match no variant of {ecu.odx.file.name}; {kind} "
                       f"{base.name} is assumed (name the variant in the vehicle definition "
                       "if it is known)")


def identity_dids(ecu: EcuDefinition | None, variant: str | None) -> tuple[int, ...]:
    """What identification reads: the scan DIDs and the description's identification DIDs."""
    extra = ecu.odx.ident_dids(variant) if ecu is not None and ecu.odx is not None else ()
    return SCAN_DIDS + tuple(d for d in extra if d not in SCAN_DIDS)


def descriptions(tables: DataDescriptions, ecu: EcuDefinition | None,
                 variant: str | None) -> DataDescriptions:
    """The definition's tables first, then the ECU's description (its variant)."""
    if ecu is None or ecu.odx is None:
        return tables
    return LayeredDescriptions((tables, ecu.odx.data_descriptions(variant)))


def read_identity(client: EcuClient, ecu: EcuDefinition | None, tables: DataDescriptions
                  ) -> tuple[EcuIdentity, str | None, str]:
    """Identify the variant, read the identification and give it in words; the third item
    is the note when the variant was assumed (see `ecu_variant`)."""
    variant, note = ecu_variant(client, ecu)
    identity = client.read_identity(identity_dids(ecu, variant))
    identity.describe(descriptions(tables, ecu, variant))
    return identity, variant, note


def add_texts(dtcs: list[Dtc], ecu: EcuDefinition | None, variant: str | None) -> None:
    """DTC texts from the description where the definition gave none."""
    if ecu is None or ecu.odx is None:
        return
    texts = ecu.odx.dtc_texts(variant)
    for dtc in dtcs:
        if not dtc.text and dtc.dtc in texts:
            dtc.text = texts[dtc.dtc]


@dataclass(frozen=True)
class VehicleDescriptions:
    """What each ECU's DTC details decode with, by ECU name (the app's panel, the report)."""

    tables: DataDescriptions = NO_DESCRIPTIONS
    ecus: Mapping[str, EcuDefinition] = field(default_factory=dict)
    variants: Mapping[str, str | None] = field(default_factory=dict)

    def for_ecu(self, name: str) -> DataDescriptions:
        return descriptions(self.tables, self.ecus.get(name), self.variants.get(name))
