"""The tester's checksums against the catalogue check values and, for CRC-16/X.25, against
the `crc` package (an independent implementation), as is the simulated PSA bootloader's own
table-driven one: three implementations agree."""

from __future__ import annotations

from crc import Calculator, Crc16
from hypothesis import given
from hypothesis import strategies as st

from workshop.flash.checksums import DIGESTS, byte_sum
from workshop.simulator.bootloaders.psa import crc16_x25 as ecu_x25

X25 = Calculator(Crc16.X25.value, optimized=True)


def test_catalogue_check_values() -> None:
    assert DIGESTS["crc16_x25"](b"123456789") == bytes.fromhex("906E") == ecu_x25(b"123456789")
    assert DIGESTS["crc32"](b"123456789") == bytes.fromhex("CBF43926")
    assert DIGESTS["sum16"](b"123456789") == (0x1DD).to_bytes(2, "big")
    assert byte_sum(b"\xff" * 257, 1) == b"\xff"


@given(st.binary(max_size=2048))
def test_x25_matches_the_crc_package(data: bytes) -> None:
    assert DIGESTS["crc16_x25"](data) == int(X25.checksum(data)).to_bytes(2, "big") \
        == ecu_x25(data)


def test_fingerprint_templates_round_trip() -> None:
    """What the tool writes with a template, it recognises with the same template."""
    import datetime as dt

    from workshop.flash import codec

    sha = "ab" * 32
    at = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    default = codec.fingerprint("tech", sha, at)
    assert len(default) == 16 and default[2:5] == b"\x26\x12\x06"
    assert codec.fingerprint_package(default) == bytes.fromhex(sha)[:7]
    vag = ("date_bcd", "workshop_code", "package_hash:3")
    value = codec.fingerprint("tech", sha, at, vag)
    assert len(value) == 9 and codec.fingerprint_package(value, vag) == b"\xab\xab\xab"
    assert codec.fingerprint_package(value) is None  # not the default layout
    psa = ("date_bcd", "tester_hash", "package_crc32")
    assert codec.fingerprint_package(codec.fingerprint("tech", sha, at, psa), psa) is None
    from workshop.vehicles import load_vehicle

    ecm = load_vehicle("van").ecu("ECM").flash
    assert codec.carries_package(value, ecm, sha)
    assert not codec.carries_package(value, ecm, "cd" * 32)
