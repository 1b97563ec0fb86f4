"""Property tests: DTC text forms, the DTC record parsers and identification values.

Each one checks content (a round trip through the encoding the ECU uses), not only types.
"""

from __future__ import annotations

import re
import struct

from hypothesis import given
from hypothesis import strategies as st

from workshop.uds.dtc import (
    DTC_FORMAT_ISO11992_4,
    DTC_FORMAT_NAMES,
    DTC_FORMAT_SAE_J1939_73,
    STATUS_BITS,
    dtc_code,
    dtc_to_text,
    j1939_to_text,
    parse_dtc_code,
    status_names,
    text_to_dtc,
    text_to_j1939,
)
from workshop.uds.dtc_records import parse_dtc_list, parse_extended, parse_snapshots
from workshop.uds.identity import decode_did_value

J2012 = re.compile(r"^[PCBU][0-3][0-9A-F]{3}[0-9A-F]{2}$")
dtcs = st.integers(min_value=0, max_value=0xFFFFFF)


@given(dtcs)
def test_dtc_text_round_trip(dtc: int) -> None:
    text = dtc_to_text(dtc)
    assert J2012.match(text)
    assert text_to_dtc(text) == dtc
    assert text_to_dtc(f"{text[:5]}-{text[5:]}".lower()) == dtc


def test_dtc_text_known_values() -> None:
    assert dtc_to_text(0x030100) == "P030100"
    assert dtc_to_text(0xC10000 | 0x01) == "U010001"
    assert text_to_dtc("B1234") == 0x923400


@given(st.integers(0, (1 << 19) - 1), st.integers(0, 31))
def test_j1939_spn_fmi_round_trip(spn: int, fmi: int) -> None:
    dtc = text_to_j1939(f"SPN {spn} FMI {fmi}")
    b0, b1, b2 = dtc.to_bytes(3, "big")
    assert (b0 | b1 << 8 | (b2 >> 5) << 16, b2 & 0x1F) == (spn, fmi)  # SAE J1939-73 layout
    assert j1939_to_text(dtc) == f"SPN {spn} FMI {fmi}"
    assert text_to_j1939(f"spn{spn}-fmi{fmi}") == dtc


@given(dtcs, st.sampled_from(sorted(DTC_FORMAT_NAMES)))
def test_dtc_code_round_trip_in_every_format(dtc: int, fmt: int) -> None:
    assert parse_dtc_code(dtc_code(dtc, fmt), fmt) == dtc
    if fmt == DTC_FORMAT_ISO11992_4:
        assert dtc_code(dtc, fmt) == f"0x{dtc:06X}"
    elif fmt != DTC_FORMAT_SAE_J1939_73:
        assert dtc_code(dtc, fmt) == dtc_to_text(dtc)


@given(st.integers(min_value=0, max_value=0xFF))
def test_status_names(status: int) -> None:
    names = status_names(status)
    assert names == [STATUS_BITS[bit] for bit in range(8) if status >> bit & 1]


@given(st.lists(st.tuples(st.integers(1, 0xFFFFFF), st.integers(0, 0xFF)), max_size=16),
       st.binary(max_size=3))
def test_parse_dtc_list_round_trip(items: list[tuple[int, int]], tail: bytes) -> None:
    payload = b"".join(dtc.to_bytes(3, "big") + bytes([status]) for dtc, status in items)
    assert parse_dtc_list(payload + tail) == items  # an incomplete last record is ignored


snapshot_records = st.dictionaries(
    st.integers(0, 0xFE),
    st.dictionaries(st.integers(0, 0xFFFF), st.binary(min_size=1, max_size=6),
                    min_size=1, max_size=4),
    max_size=4)


@given(snapshot_records)
def test_parse_snapshots_round_trip(records: dict[int, dict[int, bytes]]) -> None:
    sizes: dict[int, int] = {}
    for dids in records.values():
        for did, data in dids.items():
            sizes.setdefault(did, len(data))
    # A DID has one length; keep only records that agree with the length table.
    records = {n: d for n, d in records.items()
               if all(len(v) == sizes[k] for k, v in d.items())}
    payload = b"".join(bytes([n, len(d)]) + b"".join(struct.pack(">H", k) + v
                                                     for k, v in d.items())
                       for n, d in records.items())
    expected = {n: {f"0x{k:04X}": v.hex().upper() for k, v in d.items()}
                for n, d in records.items()}
    assert parse_snapshots(payload, sizes) == expected


@given(st.integers(0, 0xFE), st.binary(min_size=1, max_size=16))
def test_parse_snapshots_unknown_did_kept_raw(number: int, data: bytes) -> None:
    payload = bytes([number, 1]) + b"\x12\x34" + data
    assert parse_snapshots(payload, {}) == {number: {"raw": ("1234" + data.hex()).upper()}}


@given(st.integers(0, 0xFD), st.binary(max_size=16))
def test_parse_extended_one_record_round_trip(record: int, data: bytes) -> None:
    assert parse_extended(bytes([record]) + data, record) == {record: data.hex().upper()}


@given(st.sampled_from([0xFE, 0xFF]), st.binary(min_size=1, max_size=16))
def test_parse_extended_all_records_kept_as_one_blob(record: int, data: bytes) -> None:
    assert parse_extended(data, record) == {record: data.hex().upper()}


printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                    max_size=24)


@given(printable, st.sampled_from([b"", b"\x00\x00", b"  ", b"\xff"]))
def test_identification_text_round_trip(text: str, padding: bytes) -> None:
    assert decode_did_value(text.encode("ascii") + padding) == text


@given(st.binary(min_size=1, max_size=24).filter(lambda b: any(x < 0x20 or x > 0x7E
                                                               for x in b.rstrip(b"\x00 \xff"))))
def test_identification_binary_shown_as_hex(raw: bytes) -> None:
    assert decode_did_value(raw) == raw.hex().upper()
