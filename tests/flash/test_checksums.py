"""The tester's checksums against the catalogue check values and, for CRC-16/X.25, against
the `crc` package the simulated bootloaders use (an independent implementation)."""

from __future__ import annotations

from crc import Calculator, Crc16
from hypothesis import given
from hypothesis import strategies as st

from workshop.flash.checksums import DIGESTS, byte_sum

X25 = Calculator(Crc16.X25.value, optimized=True)


def test_catalogue_check_values() -> None:
    assert DIGESTS["crc16_x25"](b"123456789") == bytes.fromhex("906E")
    assert DIGESTS["crc32"](b"123456789") == bytes.fromhex("CBF43926")
    assert DIGESTS["sum16"](b"123456789") == (0x1DD).to_bytes(2, "big")
    assert byte_sum(b"\xff" * 257, 1) == b"\xff"


@given(st.binary(max_size=2048))
def test_x25_matches_the_crc_package(data: bytes) -> None:
    assert DIGESTS["crc16_x25"](data) == int(X25.checksum(data)).to_bytes(2, "big")
