"""A DTC as a technician reads it: status bits in words with what each means, snapshot
records as named values with units, extended data records by name; the raw hex kept aside.

The one place that decodes DTC data for the CLI (`dtc read`), the app's detail panel and the
PDF report. Names and units come from `DataDescriptions` (the vehicle definition's
`[snapshot_dids]` and `[extended_records]`, then the ECU's ODX description); bytes nothing
describes are shown as "(undescribed) 0BB8".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workshop.uds.dtc import STATUS_BITS
from workshop.uds.dtc_records import Dtc
from workshop.vehicles.data_ids import NO_DESCRIPTIONS, DataDescriptions

# ISO 14229-1 D.2 status bits, bit 0 first: (short words, what it means for the repair)
STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("failing now", "the most recent test of this fault failed"),
    ("failed this drive cycle", "the test failed at least once in the current operation "
                                "cycle"),
    ("pending", "failed in this or the last operation cycle; not yet confirmed"),
    ("confirmed", "failed often enough for the ECU to store it as confirmed"),
    ("not tested since clear", "the test has not run to completion since DTCs were last "
                               "cleared"),
    ("failed since clear", "the test failed at least once since DTCs were last cleared"),
    ("not tested this drive cycle", "the test has not run to completion in the current "
                                    "operation cycle"),
    ("warning lamp on", "the ECU asks for the warning indicator (e.g. the MIL) to be lit"),
)


@dataclass(frozen=True)
class StatusBit:
    bit: int
    name: str  # the ISO 14229-1 name, e.g. confirmedDTC
    words: str
    meaning: str
    set: bool


@dataclass(frozen=True)
class NamedValue:
    label: str  # "Engine speed (0x9000)", "Occurrence counter (record 1)"
    text: str  # "3000 rpm"; "(undescribed) 0BB8" when nothing says what the bytes mean
    raw: str  # hex as the ECU sent it


@dataclass(frozen=True)
class Snapshot:
    record: int
    values: tuple[NamedValue, ...]


@dataclass(frozen=True)
class DtcDetails:
    ecu: str
    code: str
    text: str
    status: int
    bits: tuple[StatusBit, ...]
    snapshots: tuple[Snapshot, ...] = ()
    extended: tuple[NamedValue, ...] = field(default_factory=tuple)

    @property
    def status_words(self) -> str:
        return status_words(self.status)


def status_words(status: int) -> str:
    """'failing now, pending, confirmed' (the set bits); 'no fault bit set' when none is."""
    words = [STATUS_WORDS[b][0] for b in range(8) if status >> b & 1]
    return ", ".join(words) or "no fault bit set"


def _value(label: str, raw_hex: str, text: str | None) -> NamedValue:
    return NamedValue(label, text if text is not None else undescribed(raw_hex), raw_hex)


def undescribed(raw_hex: str) -> str:
    """Bytes no description names, marked so a technician does not take them for a value."""
    return f"{UNDESCRIBED} {raw_hex}" if raw_hex else "(no data)"


UNDESCRIBED = "(undescribed)"


def describe(ecu: str, dtc: Dtc, source: DataDescriptions = NO_DESCRIPTIONS) -> DtcDetails:
    bits = tuple(StatusBit(b, STATUS_BITS[b], *STATUS_WORDS[b], set=bool(dtc.status >> b & 1))
                 for b in range(8))
    snapshots = []
    for record, values in sorted(dtc.snapshots.items()):
        out = []
        for key, raw_hex in values.items():
            if key == "raw":  # a DID whose size nothing gives: the rest cannot be split
                out.append(_value("undecoded rest of the record", raw_hex, None))
                continue
            did = int(key, 16)
            d = source.did(did)
            label = f"{d.name} ({key})" if d is not None and d.name else f"DID {key}"
            text = d.text(bytes.fromhex(raw_hex)) if d is not None else None
            out.append(_value(label, raw_hex, text))
        snapshots.append(Snapshot(record, tuple(out)))
    extended: list[NamedValue] = []
    for record, raw_hex in sorted(dtc.extended.items()):
        data = bytes.fromhex(raw_hex)
        if record in (0xFE, 0xFF):
            extended += _all_records(record, data, source)
        else:
            extended.append(_record(record, data, source))
    return DtcDetails(ecu, dtc.code, dtc.text, dtc.status, bits, tuple(snapshots),
                      tuple(extended))


def _record(record: int, data: bytes, source: DataDescriptions) -> NamedValue:
    d = source.extended_record(record)
    label = f"{d.name} (record {record})" if d is not None and d.name else f"record {record}"
    return _value(label, data.hex().upper(), d.text(data) if d is not None else None)


def _all_records(which: int, data: bytes, source: DataDescriptions) -> list[NamedValue]:
    """The answer to "all records" (0xFF, or 0xFE: OBD ones) is [number, data]* with sizes
    only the description knows: split while every size is known, else keep the rest raw."""
    out, i = [], 0
    while i < len(data):
        d = source.extended_record(data[i])
        if d is None or i + 1 + d.size > len(data):
            out.append(_value(f"undecoded records (0x{which:02X})", data[i:].hex().upper(),
                              None))
            break
        out.append(_record(data[i], data[i + 1:i + 1 + d.size], source))
        i += 1 + d.size
    return out


def details_json(d: DtcDetails) -> dict[str, object]:
    """Snapshot and extended values by name, for `--json`: label, value in words, raw hex."""
    def one(v: NamedValue) -> dict[str, str]:
        return {"label": v.label, "value": v.text, "raw": v.raw}
    return {"snapshot_values": [{"record": s.record, "values": [one(v) for v in s.values]}
                                for s in d.snapshots],
            "extended_values": [one(v) for v in d.extended]}


def detail_lines(d: DtcDetails, *, raw: bool = False, meanings: bool = True) -> list[str]:
    """The DTC as lines of text (CLI, PDF): status bits set, with their meaning; snapshot and
    extended values by name; with `raw`, the status byte and each value's hex too."""
    status = f"status: {d.status_words}" + (f" (0x{d.status:02X})" if raw else "")
    lines = [status]
    if meanings:
        lines += [f"  {b.words}: {b.meaning}" for b in d.bits if b.set]
    for snap in d.snapshots:
        lines.append(f"snapshot {snap.record}:")
        lines += [f"  {v.label}: {v.text}" + (f"  [raw {v.raw}]" if raw and v.raw else "")
                  for v in snap.values]
    if d.extended:
        lines.append("extended data:")
        lines += [f"  {v.label}: {v.text}" + (f"  [raw {v.raw}]" if raw and v.raw else "")
                  for v in d.extended]
    return lines
