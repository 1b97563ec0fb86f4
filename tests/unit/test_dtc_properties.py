"""Property tests: DTC text encoding and the DTC record parsers."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from workshop.uds.dtc import STATUS_BITS, dtc_to_text, status_names, text_to_dtc
from workshop.uds.dtc_records import parse_dtc_list, parse_extended, parse_snapshots

J2012 = re.compile(r"^[PCBU][0-3][0-9A-F]{3}[0-9A-F]{2}$")


@given(st.integers(min_value=0, max_value=0xFFFFFF))
def test_dtc_text_round_trip(dtc: int) -> None:
    text = dtc_to_text(dtc)
    assert J2012.match(text)
    assert text_to_dtc(text) == dtc
    assert text_to_dtc(f"{text[:5]}-{text[5:]}".lower()) == dtc


@given(st.integers(min_value=0, max_value=0xFF))
def test_status_names(status: int) -> None:
    names = status_names(status)
    assert len(names) == bin(status).count("1")
    assert set(names) <= set(STATUS_BITS)


@given(st.binary(max_size=64))
def test_parse_dtc_list_never_crashes(data: bytes) -> None:
    for dtc, status in parse_dtc_list(data):
        assert 0 <= dtc <= 0xFFFFFF and 0 <= status <= 0xFF


@given(st.binary(max_size=64),
       st.dictionaries(st.integers(0, 0xFFFF), st.integers(0, 8), max_size=4))
def test_parse_snapshots_never_crashes(data: bytes, sizes: dict[int, int]) -> None:
    assert isinstance(parse_snapshots(data, sizes), dict)


@given(st.binary(max_size=64), st.integers(0, 0xFF))
def test_parse_extended_never_crashes(data: bytes, record: int) -> None:
    assert isinstance(parse_extended(data, record), dict)
